//! The order Prisma applies migrations in: folder names sorted. The engine sorts by bytes; the CLI's
//! listing uses `localeCompare` (ICU root collation), where `_` sorts before digits and letters and case
//! is only a tie-breaker. A new folder must land in the same place under both.

use std::cmp::Ordering;

/// ICU root collation's order of ASCII punctuation and symbols (all before digits and letters).
const PUNCTUATION: &str = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";

fn primary_weight(c: char) -> u32 {
    match ASCII_WEIGHTS.get(c as usize) {
        Some(&weight) => weight,
        None if c.is_whitespace() => 0,
        None => 1000 + c as u32,
    }
}

/// [`primary_weight`] of every ASCII character, computed at compile time: it runs for each character of
/// every comparison, and a history's folder names are compared often.
const ASCII_WEIGHTS: [u32; 128] = {
    let mut weights = [0u32; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        weights[c] = if b.is_ascii_whitespace() || b == 0x0b {
            0
        } else if b.is_ascii_digit() {
            100 + (b - b'0') as u32
        } else if b.is_ascii_alphabetic() {
            200 + (b.to_ascii_lowercase() - b'a') as u32
        } else {
            let mut weight = 1000 + c as u32;
            let punctuation = PUNCTUATION.as_bytes();
            let mut i = 0;
            while i < punctuation.len() {
                if punctuation[i] == b {
                    weight = 1 + i as u32;
                    break;
                }
                i += 1;
            }
            weight
        };
        c += 1;
    }
    weights
};

/// An approximation of ICU root collation for folder names: primary weights first, then lower case
/// before upper case, then bytes.
pub fn collation_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        // Folder names are ASCII and share long timestamp prefixes: compare bytes through the table.
        let weight = |c: &u8| ASCII_WEIGHTS[*c as usize];
        return (a.as_bytes().iter().map(weight))
            .cmp(b.as_bytes().iter().map(weight))
            .then_with(|| {
                let upper = |c: &u8| c.is_ascii_uppercase();
                (a.as_bytes().iter().map(upper)).cmp(b.as_bytes().iter().map(upper))
            })
            .then_with(|| a.cmp(b));
    }
    a.chars()
        .map(primary_weight)
        .cmp(b.chars().map(primary_weight))
        .then_with(|| {
            a.chars()
                .map(|c| c.is_ascii_uppercase())
                .cmp(b.chars().map(|c| c.is_ascii_uppercase()))
        })
        .then_with(|| a.cmp(b))
}

/// The key [`collation_cmp`] compares, for sorting many names.
fn collation_key(name: &str) -> (Vec<u32>, Vec<bool>, &str) {
    (
        name.chars().map(primary_weight).collect(),
        name.chars().map(|c| c.is_ascii_uppercase()).collect(),
        name,
    )
}

pub fn byte_cmp(a: &str, b: &str) -> Ordering {
    a.as_bytes().cmp(b.as_bytes())
}

/// Existing folder names (borrowed), sorted under both orders, to check where new folders would land.
pub struct FolderOrder<'a> {
    by_bytes: Vec<&'a str>,
    by_collation: Vec<&'a str>,
}

impl<'a> FolderOrder<'a> {
    pub fn new(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut by_bytes: Vec<&'a str> = names.into_iter().collect();
        by_bytes.sort_by(|a, b| byte_cmp(a, b));
        let mut by_collation = by_bytes.clone();
        // Each name's weights computed once, not at every comparison of the sort.
        by_collation.sort_by_cached_key(|name| collation_key(name));
        FolderOrder {
            by_bytes,
            by_collation,
        }
    }

    /// Check that `new` (in this order) sorts right after `after` and before every existing folder that
    /// follows `after`, under both orders. Returns the name that gets in the way.
    pub fn check_insertion(&self, after: &str, new: &[String]) -> Result<(), String> {
        for (sorted, cmp) in [
            (&self.by_bytes, byte_cmp as fn(&str, &str) -> Ordering),
            (&self.by_collation, collation_cmp),
        ] {
            let mut previous = after;
            for name in new {
                if cmp(previous, name) != Ordering::Less {
                    return Err(previous.to_string());
                }
                previous = name;
            }
            // The first existing folder after `after` in this order must come after the new ones.
            let position =
                sorted.partition_point(|existing| cmp(existing, after) != Ordering::Greater);
            if let Some(next) = sorted
                .get(position)
                .filter(|next| cmp(previous, next) != Ordering::Less)
            {
                return Err(next.to_string());
            }
            if new
                .iter()
                .any(|n| sorted.binary_search_by(|existing| cmp(existing, n)).is_ok())
            {
                return Err(previous.to_string());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weight_table_is_the_rule() {
        for c in (0u8..128).map(char::from) {
            let expected = match c {
                c if c.is_whitespace() => 0,
                c if c.is_ascii_digit() => 100 + (c as u32 - '0' as u32),
                c if c.is_ascii_alphabetic() => 200 + (c.to_ascii_lowercase() as u32 - 'a' as u32),
                c => PUNCTUATION
                    .find(c)
                    .map_or(1000 + c as u32, |i| 1 + i as u32),
            };
            assert_eq!(primary_weight(c), expected, "{c:?}");
        }
    }

    #[test]
    fn the_sort_key_orders_like_the_comparison() {
        let names = [
            "a_b",
            "a1",
            "aB",
            "ab",
            "ac",
            "aZ",
            "1_a",
            "1_a_00_mine",
            "2 b",
            "2_b",
        ];
        let mut by_key = names.to_vec();
        by_key.sort_by_cached_key(|n| collation_key(n));
        let mut by_cmp = names.to_vec();
        by_cmp.sort_by(|a, b| collation_cmp(a, b));
        assert_eq!(by_key, by_cmp);
    }

    #[test]
    fn prefix_sorts_first_in_both_orders() {
        let a = "20240301120000_add_teams";
        let b = "20240301120000_add_teams_01_create_index_x";
        assert_eq!(byte_cmp(a, b), Ordering::Less);
        assert_eq!(collation_cmp(a, b), Ordering::Less);
    }

    #[test]
    fn underscore_before_digits_and_letters_in_collation_only_case_insensitive() {
        assert_eq!(collation_cmp("a_b", "a1"), Ordering::Less);
        assert_eq!(byte_cmp("a_b", "a1"), Ordering::Greater);
        assert_eq!(collation_cmp("aB", "ab"), Ordering::Greater);
        assert_eq!(collation_cmp("aB", "ac"), Ordering::Less);
        assert_eq!(byte_cmp("aB", "ac"), Ordering::Less);
        assert_eq!(byte_cmp("aZ", "ab"), Ordering::Less);
        assert_eq!(collation_cmp("aZ", "ab"), Ordering::Greater);
    }

    #[test]
    fn insertion_is_refused_when_an_existing_folder_gets_in_the_way() {
        let order = FolderOrder::new(["1_a", "1_a_00_mine", "2_b"]);
        assert_eq!(
            order.check_insertion("1_a", &["1_a_01_x".to_string()]),
            Err("1_a_00_mine".to_string())
        );
        let order = FolderOrder::new(["1_a", "2_b"]);
        assert_eq!(
            order.check_insertion("1_a", &["1_a_01_x".to_string(), "1_a_02_y".to_string()]),
            Ok(())
        );
    }
}

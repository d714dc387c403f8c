//! Properties of the lossless splitter: for every input the pieces concatenate back to the input, and
//! statements built from tricky fragments (strings, quoted identifiers, dollar quotes, comments holding
//! `;`) come back exactly as written.

use migrate_safe::source::classify::classify;
use migrate_safe::source::split::split;
use proptest::prelude::*;

/// One fragment of a statement that may hide a `;`.
fn fragment() -> impl Strategy<Value = String> {
    let text = "[a-z;' \"$\\\\*/-]{0,12}";
    prop_oneof![
        "[A-Za-z_][A-Za-z0-9_]{0,8}".prop_map(|w| w),
        "[0-9]{1,4}".prop_map(|n| n),
        text.prop_map(|t| format!("'{}'", t.replace('\'', "''"))),
        text.prop_map(|t| format!("E'{}'", t.replace('\\', "\\\\").replace('\'', "\\'"))),
        text.prop_map(|t| format!("\"{}\"", t.replace('"', "\"\"").replace('\0', ""))),
        (text, "[a-z]{0,3}").prop_map(|(t, tag)| format!("${tag}${}${tag}$", t.replace('$', ""))),
        text.prop_map(|t| format!("/* {} */", t.replace(['*', '/'], ""))),
        text.prop_map(|t| format!("/* outer /* {} */ still */", t.replace(['*', '/'], ""))),
        text.prop_map(|t| format!("-- {}\n", t)),
        Just("(".to_string()),
        Just(")".to_string()),
        Just(",".to_string()),
    ]
}

fn statement() -> impl Strategy<Value = String> {
    ("[A-Z]{3,8}", prop::collection::vec(fragment(), 0..8)).prop_map(|(head, parts)| {
        let mut out = head;
        for part in parts {
            out.push(' ');
            out.push_str(&part);
        }
        out
    })
}

/// Whitespace and comments between statements.
fn separator() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\n".to_string()),
        Just("\n\n".to_string()),
        Just(" ".to_string()),
        Just("\r\n".to_string()),
        "[a-z ;]{0,10}".prop_map(|c| format!("\n-- {c}\n")),
        "[a-z ;]{0,10}".prop_map(|c| format!("\n/* {c} */\n")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn statements_come_back_exactly(
        statements in prop::collection::vec(statement(), 1..6),
        separators in prop::collection::vec(separator(), 6),
        lead in separator(),
    ) {
        let mut input = lead.clone();
        for (i, s) in statements.iter().enumerate() {
            input.push_str(s);
            input.push(';');
            input.push_str(&separators[i]);
        }
        let result = split(&input).unwrap();
        let joined: String = result.pieces.iter().map(|p| &input[p.bytes.clone()]).collect();
        prop_assert_eq!(&joined, &input);
        let found: Vec<String> = result
            .statements()
            .map(|p| input[p.statement.clone().unwrap()].trim_end_matches(';').to_string())
            .collect();
        prop_assert_eq!(found, statements);
    }

    #[test]
    fn any_input_is_split_losslessly_or_refused_without_panic(input in "\\PC{0,200}") {
        if let Ok(result) = split(&input) {
            let mut cursor = 0;
            for piece in &result.pieces {
                prop_assert_eq!(piece.bytes.start, cursor);
                cursor = piece.bytes.end;
                if let Some(statement) = &piece.statement {
                    prop_assert!(piece.bytes.start <= statement.start && statement.end <= piece.bytes.end);
                }
            }
            prop_assert_eq!(cursor, input.len());
            let mut token_cursor = 0;
            for token in &result.tokens {
                prop_assert_eq!(token.bytes.start, token_cursor);
                token_cursor = token.bytes.end;
            }
            prop_assert_eq!(token_cursor, input.len());
        }
    }

    #[test]
    fn prisma_shaped_files_split_into_their_steps(steps in prop::collection::vec(("[A-Z][a-z]{2,10}", statement()), 1..8)) {
        let input: String = steps.iter().map(|(name, s)| format!("-- {name}\n{s};\n\n")).collect();
        let result = split(&input).unwrap();
        let headers: Vec<String> = result
            .statements()
            .map(|p| input[p.header.clone().unwrap()].to_string())
            .collect();
        let expected: Vec<String> = steps.iter().map(|(name, _)| format!("-- {name}\n")).collect();
        prop_assert_eq!(headers, expected);
    }
}

/// Statement-shaped token soup: the keywords the statement readers branch on, names, punctuation, in any
/// order — what a reader indexing past the end of its tokens would trip over.
fn keyword_soup() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        prop::sample::select(vec![
            "CREATE",
            "ALTER",
            "DROP",
            "TABLE",
            "INDEX",
            "UNIQUE",
            "CONCURRENTLY",
            "IF",
            "NOT",
            "EXISTS",
            "ON",
            "ONLY",
            "USING",
            "ADD",
            "CONSTRAINT",
            "FOREIGN",
            "PRIMARY",
            "KEY",
            "REFERENCES",
            "COLUMN",
            "SET",
            "DATA",
            "TYPE",
            "NULL",
            "DEFAULT",
            "RENAME",
            "TO",
            "VALIDATE",
            "CHECK",
            "VALID",
            "TRUNCATE",
            "VACUUM",
            "FULL",
            "REINDEX",
            "CLUSTER",
            "TYPE",
            "AS",
            "ENUM",
            "BEGIN",
            "COMMIT",
            "SCHEMA",
            "GENERATED",
            "IDENTITY",
            "STORED",
            "CASCADE",
            "WHERE",
            "INCLUDE",
            "lock_timeout",
            "gen_random_uuid",
            "INSERT",
            "CONFLICT",
        ])
        .prop_map(str::to_string),
        "\"[a-z]{1,4}\"",
        "[a-z]{1,4}",
        prop::sample::select(vec![
            "(", ")", ",", ".", "*", "[", "]", "=", "'x'", "1", "::"
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(word, 1..14).prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Classifying never panics, whatever the statement; and every statement gets a fact.
    #[test]
    fn classification_never_panics(statements in prop::collection::vec(keyword_soup(), 1..6)) {
        let input: String = statements.iter().map(|s| format!("{s};\n")).collect();
        let split = split(&input).unwrap();
        let classified = classify(&split, &input);
        prop_assert_eq!(classified.len(), split.statements().count());
    }
}

#!/usr/bin/env python3
"""Copy a Prisma migrations directory into one flat directory of numbered .sql files.

    python3 bench/flatten.py PRISMA_MIGRATIONS_DIR FLAT_DIR

`20230404095503_initial/migration.sql` becomes `0001_20230404095503_initial.sql` (five digits from
10,000 migrations on), numbered in Prisma's order (folder names sorted), which is what
`eugene lint` wants: a directory of scripts with leading sequence numbers. Prints the count.
"""

import os
import shutil
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip())
    src, dst = sys.argv[1], sys.argv[2]
    folders = sorted(
        name for name in os.listdir(src)
        if os.path.isfile(os.path.join(src, name, "migration.sql"))
    )
    if os.path.exists(dst):
        stray = [n for n in os.listdir(dst) if not n.endswith(".sql")]
        if stray:
            sys.exit("flatten.py: %s holds files other than .sql; not replacing it" % dst)
        shutil.rmtree(dst)
    os.makedirs(dst)
    width = max(4, len(str(len(folders))))
    for i, name in enumerate(folders, 1):
        shutil.copyfile(os.path.join(src, name, "migration.sql"),
                        os.path.join(dst, "%0*d_%s.sql" % (width, i, name)))
    print(len(folders))


if __name__ == "__main__":
    main()

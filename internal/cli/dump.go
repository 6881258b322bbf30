package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kagi-auth/kagi/internal/store/sqlstore"
)

// runExport writes the whole database to stdout as a dump (SPEC R2: moving a
// SQLite deployment to PostgreSQL is `kagi export | kagi import`).
func runExport(ctx context.Context, args []string, env Env) error {
	cfg, _, _, err := parse("export", args, env, nil)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		// Opening a missing directory would create an empty database and
		// export nothing, which looks like success.
		file := filepath.Join(cfg.Data, sqlstore.SQLiteFile)
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("export: no database at %s (wrong --data?)", file)
		}
	}
	st, where, err := openStore(ctx, cfg, newLogger(cfg, env.Stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	counts, err := st.Export(ctx, env.Stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "exported %s:", where)
	printCounts(env.Stderr, counts)
	key := "the key given with --secret-key"
	if cfg.SecretKey == "" {
		key = "the key in " + cfg.KeyFile()
	}
	fmt.Fprintf(env.Stderr, "TOTP secrets in the dump are sealed with %s: run the importing deployment with that key (--secret-key).\n", key)
	return nil
}

// runImport loads a dump from stdin into a freshly migrated, empty database.
func runImport(ctx context.Context, args []string, env Env) error {
	cfg, _, _, err := parse("import", args, env, nil)
	if err != nil {
		return err
	}
	st, where, err := openStore(ctx, cfg, newLogger(cfg, env.Stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	counts, err := st.Import(ctx, env.Stdin)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "imported into %s:", where)
	printCounts(env.Stdout, counts)
	return nil
}

func printCounts(w io.Writer, counts []sqlstore.TableRows) {
	for i, c := range counts {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(w, "%s %s %d", sep, c.Table, c.Rows)
	}
	fmt.Fprintln(w)
}

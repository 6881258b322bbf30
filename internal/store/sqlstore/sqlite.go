package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// SQLiteFile is the database file OpenSQLite uses inside its directory.
const SQLiteFile = "kagi.db"

// Every connection: wait up to 10 s for a lock held by another connection or
// process (the kagi CLI writes the file a server has open); WAL so readers never
// block the writer; NORMAL sync, which in WAL loses nothing on a process crash.
// The group committer's savepoints each need a sub-journal: in memory
// (temp_store) they cost no file writes.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
	"&_pragma=temp_store(MEMORY)"

const sqliteReaders = 4

// OpenSQLite opens (creating it, mode 0700, if needed) the database in
// dir/kagi.db and migrates it.
//
// It keeps two pools on the file. Every write transaction runs on one writer
// connection, held by the group committer (group.go), which begins
// transactions IMMEDIATE, so a transaction that reads then writes takes the
// write lock up front instead of failing with SQLITE_BUSY when it upgrades; the
// busy timeout covers writers in other processes. (The writer pool's second
// connection only serves Migrate and goose.) Plain reads go to a pool of
// read-only connections, which WAL lets run beside the writer; their
// statements are prepared once and kept.
func OpenSQLite(ctx context.Context, dir string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	path := filepath.Join(dir, SQLiteFile)
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlstore: database path %q contains '?'", path)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	// Create the file ourselves so that it is private: SQLite gives the -wal and
	// -shm files it derives the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}

	writer, err := sql.Open("sqlite", path+"?"+sqlitePragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(2)
	reader, err := sql.Open("sqlite", path+"?"+sqlitePragmas+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	reader.SetMaxOpenConns(sqliteReaders)
	reader.SetMaxIdleConns(sqliteReaders)

	db := &DB{dialect: sqliteDialect, logger: logger, writer: writer, reader: reader}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.group, err = startCommitter(ctx, writer); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	db.reads = &readStmts{pool: reader, m: map[string]*sql.Stmt{}}
	return db, nil
}

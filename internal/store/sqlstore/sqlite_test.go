package sqlstore_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
	"github.com/kagi-auth/kagi/internal/store/storetest"
)

func openSQLite(t *testing.T, dir string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.OpenSQLite(t.Context(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openSQLite(t, t.TempDir()) })
}

// TestSQLiteFiles: the directory and the database are private (R1, R3).
func TestSQLiteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "kagi")
	db := openSQLite(t, dir)
	if err := db.Migrate(t.Context()); err != nil { // again: nothing to do
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, sqlstore.SQLiteFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode(), want)
		}
	}
}

// TestSQLiteTwoProcesses: the kagi CLI opens the file a running server has
// open. Each sees the other's writes, and they write at once without "database
// is locked" and without forking the audit chain (R1, O5, B2).
func TestSQLiteTwoProcesses(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	server, cli := openSQLite(t, dir), openSQLite(t, dir)

	c := &store.Customer{Code: "10000001", UserHandle: []byte("handle-1"), CreatedAt: time.Now()}
	if err := cli.CreateCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := server.CustomerByCode(ctx, c.Code); err != nil {
		t.Fatalf("the server does not see the CLI's customer: %v", err)
	}

	const each = 25
	errs := make(chan error, 2*each*3)
	done := make(chan struct{})
	for _, db := range []*sqlstore.DB{server, cli} {
		for range 5 {
			go func() {
				defer func() { done <- struct{}{} }()
				for range each / 5 {
					_, _, err := db.RecordFailure(ctx, c.ID, 0, time.Now())
					errs <- err
					errs <- db.AppendAudit(ctx, &store.AuditEntry{At: time.Now(), Actor: "cli", CustomerID: c.ID, Event: "x"})
					errs <- db.InTx(ctx, func(tx store.Store) error {
						got, err := tx.CustomerByID(ctx, c.ID) // read, then write: no lock upgrade
						if err != nil {
							return err
						}
						return tx.SetLang(ctx, got.ID, "en")
					})
				}
			}()
		}
	}
	for range 10 {
		<-done
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	got, err := server.CustomerByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.FailedAttempts != 2*each {
		t.Errorf("FailedAttempts = %d, want %d", got.FailedAttempts, 2*each)
	}
	es, err := cli.AuditRange(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2*each {
		t.Fatalf("%d audit entries, want %d", len(es), 2*each)
	}
	var prev []byte
	for i, e := range es {
		if e.Seq != int64(i+1) || !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, store.AuditHash(prev, e)) {
			t.Fatalf("audit chain broken at seq %d", e.Seq)
		}
		prev = e.Hash
	}
}

// TestInTxStoreClose: the Store handed to InTx is not the one to close.
func TestInTxStoreClose(t *testing.T) {
	db := openSQLite(t, t.TempDir())
	err := db.InTx(t.Context(), func(tx store.Store) error { return tx.Close() })
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Close inside InTx = %v, want an error", err)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping after: %v", err)
	}
}

package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
	"github.com/kagi-auth/kagi/internal/store/sqlstore"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// mustRun runs a command that must succeed and returns its output.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, args...)
	if err != nil {
		t.Fatalf("%v: %v\nstdout %s\nstderr %s", args, err, out, errOut)
	}
	return out
}

// refused runs a command that must fail with exit status 1 and an error
// mentioning want.
func refused(t *testing.T, want string, args ...string) {
	t.Helper()
	_, _, err := run(t, args...)
	if err == nil || ExitCode(err) != 1 || !strings.Contains(err.Error(), want) {
		t.Fatalf("%v: err %v (exit %d), want exit 1 with %q", args, err, ExitCode(err), want)
	}
}

func openData(t *testing.T, dir string) *sqlstore.DB {
	t.Helper()
	st, err := sqlstore.OpenSQLite(context.Background(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var enrollCode = regexp.MustCompile(`enrollment code: ([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})`)

// O1, O3, O4: the console's procedures from the command line, audited as the
// operator, with the same four-eyes rule: the requester cannot approve, an
// agent cannot approve, another supervisor can.
func TestOperatorCommands_O1_O3_O4(t *testing.T) {
	dir := t.TempDir()
	d := func(args ...string) []string { return append(args, "--data", dir) }
	mustRun(t, d("customer", "add", "--code", "40000001", "--password", "a long password", "--email", "app@example.jp", "--second-factor", "totp")...)

	out := mustRun(t, d("operator", "add", "--name", "sato", "--role", "supervisor")...)
	if enrollCode.FindString(out) == "" || !strings.Contains(out, "/enroll") {
		t.Fatalf("add printed no enrollment code: %s", out)
	}
	mustRun(t, d("operator", "add", "--name", "suzuki", "--role", "agent")...)
	mustRun(t, d("operator", "add", "--name", "tanaka", "--role", "supervisor")...)
	refused(t, "operator_exists", d("operator", "add", "--name", "sato", "--role", "agent")...)
	for _, args := range [][]string{
		d("operator", "add", "--name", "x", "--role", "agent"),
		d("operator", "add", "--name", "kimura", "--role", "boss"),
		d("operator", "approve", "--as", "sato", "--reason", "r"),
		d("operator", "unlock", "--code", "40000001", "--reason", "r"),
		d("operator", "request", "teleport", "--as", "sato", "--code", "40000001", "--reason", "r"),
		d("operator", "revoke-passkey", "--as", "sato", "--code", "40000001", "--reason", "r"),
		d("operator", "frobnicate"),
		d("operator"),
	} {
		if _, _, err := run(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		} else if c := ExitCode(err); c != 1 && c != 2 {
			t.Errorf("%v: exit %d", args, c)
		}
	}
	if out := mustRun(t, d("operator", "list")...); !strings.Contains(out, "suzuki") || !strings.Contains(out, "enrollment pending") {
		t.Fatalf("list: %s", out)
	}

	// O1 with four eyes.
	refused(t, "reason_required", d("operator", "request", "second-factor-email", "--as", "sato", "--code", "40000001")...)
	out = mustRun(t, d("operator", "request", "second-factor-email", "--as", "sato", "--code", "40000001", "--reason", "認証アプリの端末を紛失、本人確認済み")...)
	id := regexp.MustCompile(`request (\d+) recorded`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("request output: %s", out)
	}
	refused(t, "request_duplicate", d("operator", "request", "second-factor-email", "--as", "suzuki", "--code", "40000001", "--reason", "again")...)
	refused(t, "own_request", d("operator", "approve", "--id", id[1], "--as", "sato", "--reason", "ok")...)
	refused(t, "operator_forbidden", d("operator", "approve", "--id", id[1], "--as", "suzuki", "--reason", "ok")...)
	var listed []requestJSON
	if err := json.Unmarshal([]byte(mustRun(t, d("operator", "requests", "--json")...)), &listed); err != nil || len(listed) != 1 || listed[0].CustomerCode != "40000001" {
		t.Fatalf("pending requests: %+v %v", listed, err)
	}
	mustRun(t, d("operator", "approve", "--id", id[1], "--as", "tanaka", "--reason", "申請内容と本人確認の記録を確認")...)
	refused(t, "request_closed", d("operator", "approve", "--id", id[1], "--as", "tanaka", "--reason", "twice")...)

	// O3: freeze at once; unfreeze needs the identity check and four eyes.
	mustRun(t, d("operator", "freeze", "--as", "suzuki", "--code", "40000001", "--reason", "不正ログインの疑い")...)
	refused(t, "id_check_required", d("operator", "request", "unfreeze", "--as", "suzuki", "--code", "40000001", "--reason", "本人確認済み")...)
	out = mustRun(t, d("operator", "request", "unfreeze", "--as", "suzuki", "--code", "40000001", "--reason", "本人確認済み", "--id-check", "運転免許証")...)
	uid := regexp.MustCompile(`request (\d+) recorded`).FindStringSubmatch(out)[1]
	mustRun(t, d("operator", "approve", "--id", uid, "--as", "sato", "--reason", "確認済み")...)
	refused(t, "not_applicable", d("operator", "unlock", "--as", "sato", "--code", "40000001", "--reason", "not locked")...)
	refused(t, "not_found", d("operator", "unlock", "--as", "sato", "--code", "49999999", "--reason", "nobody")...)
	mustRun(t, d("operator", "disable", "--name", "suzuki")...)
	refused(t, "operator_forbidden", d("operator", "freeze", "--as", "suzuki", "--code", "40000001", "--reason", "disabled")...)

	st := openData(t, dir)
	c, err := st.CustomerByCode(context.Background(), "40000001")
	if err != nil {
		t.Fatal(err)
	}
	if c.SecondFactor != store.FactorEmail || !c.FrozenAt.IsZero() {
		t.Fatalf("customer after the procedures: factor %q frozen %v", c.SecondFactor, c.FrozenAt)
	}
	trail, err := st.AuditByCustomer(context.Background(), c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	actors := map[string]string{}
	for _, e := range trail {
		if _, ok := actors[e.Event]; !ok {
			actors[e.Event] = e.Actor
		}
		if strings.HasPrefix(e.Actor, "operator:") && !strings.Contains(e.Detail, `"via":"cli"`) {
			t.Errorf("%s by %s without via cli: %s", e.Event, e.Actor, e.Detail)
		}
	}
	for ev, actor := range map[string]string{
		"request.created": "operator:suzuki", "request.approved": "operator:sato", "second_factor.changed": "operator:tanaka",
		"account.frozen": "operator:suzuki", "account.unfrozen": "operator:sato",
	} {
		if actors[ev] != actor {
			t.Errorf("%s by %q, want %q", ev, actors[ev], actor)
		}
	}
	// The CLI runs no mail worker: the notices wait in the outbox.
	queued, err := st.ClaimMail(context.Background(), 100, c.CreatedAt.AddDate(1, 0, 0), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 3 { // second factor changed, frozen, unfrozen
		t.Errorf("%d mails queued, want 3", len(queued))
	}
}

// O5: `kagi audit verify` walks the chain, and finds a row changed behind
// the store's back (trigger dropped) and entries cut from the end.
func TestAuditVerifyDetectsTampering_O5(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "customer", "add", "--data", dir, "--code", "41000001", "--password", "a long password", "--email", "a@example.jp")
	mustRun(t, "customer", "add", "--data", dir, "--code", "41000002", "--password", "a long password")
	mustRun(t, "operator", "add", "--data", dir, "--name", "sato", "--role", "supervisor")
	out := mustRun(t, "audit", "verify", "--data", dir, "--page", "2")
	if !regexp.MustCompile(`verified: 4 entries, seq 1 to 4`).MatchString(out) {
		t.Fatalf("verify: %s", out)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, sqlstore.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The triggers refuse the change; an attacker with the file drops them.
	if _, err := db.Exec(`UPDATE audit_log SET detail = '{}' WHERE seq = 2`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("append-only trigger: %v", err)
	}
	exec(`DROP TRIGGER audit_log_no_update`)
	exec(`DROP TRIGGER audit_log_no_delete`)
	exec(`UPDATE audit_log SET detail = '{"second_factor":"email","email":false}' WHERE seq = 2`)

	stdout, _, err := run(t, "audit", "verify", "--data", dir)
	if err == nil || ExitCode(err) != 1 || !strings.Contains(stdout, "BROKEN at seq 2") || !strings.Contains(stdout, "changed after it was written") {
		t.Fatalf("changed row: %v (exit %d)\n%s", err, ExitCode(err), stdout)
	}

	// Recomputing the changed row's own hash moves the break to the next link.
	st := openData(t, dir)
	es, err := st.AuditRange(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	es[1].Hash = store.AuditHash(es[1].PrevHash, es[1])
	if _, err := db.Exec(`UPDATE audit_log SET hash = ? WHERE seq = 2`, es[1].Hash); err != nil {
		t.Fatal(err)
	}
	stdout, _, err = run(t, "audit", "verify", "--data", dir)
	if err == nil || !strings.Contains(stdout, "BROKEN at seq 3") || !strings.Contains(stdout, "prev_hash") {
		t.Fatalf("rehashed row: %v\n%s", err, stdout)
	}

	// A clean chain cut at the end: the recorded tip says more entries existed.
	dir2 := t.TempDir()
	mustRun(t, "customer", "add", "--data", dir2, "--code", "41000003", "--password", "a long password")
	mustRun(t, "customer", "add", "--data", dir2, "--code", "41000004", "--password", "a long password")
	db2, err := sql.Open("sqlite", filepath.Join(dir2, sqlstore.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	for _, q := range []string{`DROP TRIGGER audit_log_no_delete`, `DELETE FROM audit_log WHERE seq = 2`} {
		if _, err := db2.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	stdout, _, err = run(t, "audit", "verify", "--data", dir2)
	if err == nil || ExitCode(err) != 1 || !strings.Contains(stdout, "BROKEN at seq 2") || !strings.Contains(stdout, "removed") {
		t.Fatalf("cut tail: %v\n%s", err, stdout)
	}
	if _, _, err := run(t, "audit"); ExitCode(err) != 2 {
		t.Errorf("audit without verify: %v", err)
	}
}

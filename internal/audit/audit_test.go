package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// chain is a Source in memory, built the way the store appends.
type chain struct {
	es      []*store.AuditEntry
	headSeq int64
	head    []byte
	reads   int
	fail    error
}

func newChain(n int) *chain {
	c := &chain{}
	var prev []byte
	for i := 1; i <= n; i++ {
		e := &store.AuditEntry{Seq: int64(i), At: time.Unix(int64(1700000000+i), 0).UTC(), Actor: "system",
			CustomerID: int64(i % 3), Event: "x", Detail: "{}", PrevHash: prev}
		e.Hash = store.AuditHash(prev, e)
		prev = e.Hash
		c.es = append(c.es, e)
	}
	c.headSeq, c.head = int64(n), prev
	return c
}

func (c *chain) AuditRange(_ context.Context, after int64, limit int) ([]*store.AuditEntry, error) {
	c.reads++
	if c.fail != nil {
		return nil, c.fail
	}
	var out []*store.AuditEntry
	for _, e := range c.es {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (c *chain) AuditHead(context.Context) (int64, []byte, error) { return c.headSeq, c.head, nil }

// O5: every kind of tampering is found at the first broken link.
func TestVerify_O5(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(c *chain)
		seq    int64
		reason string
	}{
		{"intact", func(*chain) {}, 0, ""},
		{"content changed", func(c *chain) { c.es[4].Detail = `{"x":1}` }, 5, "changed after"},
		{"content changed and rehashed", func(c *chain) {
			c.es[4].Event = "y"
			c.es[4].Hash = store.AuditHash(c.es[4].PrevHash, c.es[4])
		}, 6, "prev_hash"},
		{"entry removed", func(c *chain) { c.es = append(c.es[:3], c.es[4:]...) }, 4, "missing"},
		{"entries swapped", func(c *chain) { c.es[2], c.es[3] = c.es[3], c.es[2] }, 3, "missing or out of order"},
		{"tail cut", func(c *chain) { c.es = c.es[:7] }, 8, "removed"},
		{"first entry changed", func(c *chain) { c.es[0].Actor = "customer" }, 1, "changed after"},
		{"head disagrees", func(c *chain) { c.head = []byte("other") }, 10, "audit_head"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChain(10)
			tt.tamper(c)
			var progress []int64
			res, err := Verify(context.Background(), c, 3, func(n int64) { progress = append(progress, n) })
			if err != nil {
				t.Fatal(err)
			}
			if tt.seq == 0 {
				if !res.OK() || res.Entries != 10 || res.LastSeq != 10 || len(progress) != 4 || progress[3] != 10 {
					t.Fatalf("intact chain: %+v, progress %v", res, progress)
				}
				return
			}
			if res.OK() || res.Broken.Seq != tt.seq || !strings.Contains(res.Broken.Reason, tt.reason) {
				t.Fatalf("got %+v, want a break at seq %d (%s)", res.Broken, tt.seq, tt.reason)
			}
			if !strings.Contains(res.Broken.Error(), "seq") {
				t.Errorf("error text %q", res.Broken.Error())
			}
		})
	}
}

func TestVerifyEmptyAndErrors(t *testing.T) {
	res, err := Verify(context.Background(), newChain(0), 0, nil)
	if err != nil || !res.OK() || res.Entries != 0 {
		t.Fatalf("empty: %+v %v", res, err)
	}
	c := newChain(2)
	c.fail = errors.New("db down")
	if _, err := Verify(context.Background(), c, 0, nil); err == nil || !strings.Contains(err.Error(), "db down") {
		t.Fatalf("read error: %v", err)
	}
}

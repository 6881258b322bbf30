// Package audit verifies kagi's hash-chained, append-only audit log (SPEC O5).
// The store appends (store.AppendAudit links each entry to the previous one
// with store.AuditHash); this package walks the chain and finds the first
// link that does not hold: an entry changed, removed, inserted or reordered
// after it was written, or the tail cut off.
package audit

import (
	"bytes"
	"context"
	"fmt"

	"github.com/kagi-auth/kagi/internal/store"
)

// Source is what Verify reads: the log in seq order and its recorded tip.
type Source interface {
	AuditRange(ctx context.Context, afterSeq int64, limit int) ([]*store.AuditEntry, error)
	AuditHead(ctx context.Context) (seq int64, hash []byte, err error)
}

// Break is the first link of the chain that does not hold.
type Break struct {
	Seq    int64  // the entry where the chain breaks
	Reason string // what does not match, in English for the log and the CLI
}

func (b *Break) Error() string {
	return fmt.Sprintf("audit chain broken at seq %d: %s", b.Seq, b.Reason)
}

// Result is what a verification found.
type Result struct {
	Entries int64  // entries read
	LastSeq int64  // seq of the last entry read
	HeadSeq int64  // seq the chain's tip records
	Broken  *Break // nil when every link holds
}

// OK reports an intact chain.
func (r Result) OK() bool { return r.Broken == nil }

// DefaultPage is how many entries Verify reads at a time.
const DefaultPage = 1000

// Verify walks the whole chain from seq 1 in pages of page entries (0:
// DefaultPage), recomputing every hash. It stops at the first broken link.
// progress, if not nil, is called after each page with the entries read so far.
// An error is returned only when the store cannot be read.
func Verify(ctx context.Context, src Source, page int, progress func(read int64)) (Result, error) {
	if page <= 0 {
		page = DefaultPage
	}
	var res Result
	// Read the tip first: entries appended while we walk come after it.
	headSeq, headHash, err := src.AuditHead(ctx)
	if err != nil {
		return res, fmt.Errorf("audit: read the chain's tip: %w", err)
	}
	res.HeadSeq = headSeq
	var prev []byte
	var after int64
	for {
		es, err := src.AuditRange(ctx, after, page)
		if err != nil {
			return res, fmt.Errorf("audit: read entries after seq %d: %w", after, err)
		}
		for _, e := range es {
			res.Entries++
			if b := check(after, prev, e); b != nil {
				res.Broken = b
				return res, nil
			}
			res.LastSeq, after, prev = e.Seq, e.Seq, e.Hash
			if e.Seq == headSeq && !bytes.Equal(e.Hash, headHash) {
				res.Broken = &Break{Seq: e.Seq, Reason: "the chain's recorded tip (audit_head) holds another hash for this entry"}
				return res, nil
			}
		}
		if progress != nil {
			progress(res.Entries)
		}
		if len(es) < page {
			break
		}
	}
	if res.LastSeq < headSeq {
		res.Broken = &Break{Seq: res.LastSeq + 1, Reason: fmt.Sprintf(
			"the log ends at seq %d but its recorded tip (audit_head) is seq %d: entries were removed", res.LastSeq, headSeq)}
	}
	return res, nil
}

// check verifies one link: e must follow seq prevSeq, point at its hash and
// hash to what it holds.
func check(prevSeq int64, prevHash []byte, e *store.AuditEntry) *Break {
	switch {
	case e.Seq != prevSeq+1:
		return &Break{Seq: prevSeq + 1, Reason: fmt.Sprintf("seq %d follows seq %d: entries are missing or out of order", e.Seq, prevSeq)}
	case !bytes.Equal(e.PrevHash, prevHash):
		return &Break{Seq: e.Seq, Reason: fmt.Sprintf("prev_hash does not match the hash of seq %d", prevSeq)}
	case !bytes.Equal(e.Hash, store.AuditHash(e.PrevHash, e)):
		return &Break{Seq: e.Seq, Reason: "the hash does not match the entry's content: it was changed after it was written"}
	}
	return nil
}

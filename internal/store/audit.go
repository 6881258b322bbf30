package store

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// AuditHash is the chain link of e: SHA-256 over the previous hash and every
// field of the entry, each length-prefixed so that no two entries encode alike.
// Backends call it when appending; `kagi audit verify` calls it to re-check.
func AuditHash(prev []byte, e *AuditEntry) []byte {
	h := sha256.New()
	var n [8]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	putInt := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	put(prev)
	putInt(e.Seq)
	putInt(e.At.UTC().UnixMicro())
	put([]byte(e.Actor))
	putInt(e.CustomerID)
	put([]byte(e.Event))
	put([]byte(e.IP))
	put([]byte(e.UserAgent))
	put([]byte(e.Detail))
	return h.Sum(nil)
}

// Micro truncates t to the microsecond precision every backend stores.
func Micro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

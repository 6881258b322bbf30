package cli

import (
	"log/slog"
	"runtime/debug"
	"strconv"

	"github.com/kagi-auth/kagi/internal/auth"
)

// serveGCPercent replaces Go's default GOGC=100 for kagi serve. The server's
// live heap is small (tens of MiB), so at 100 a login storm has it collected
// many times a second; at 400, passkey logins on 2 cores went from
// 1,580–1,781/s to 1,888–1,920/s (docs/PERFORMANCE.md).
const serveGCPercent = 400

// gcSettings returns the GC percentage and soft memory limit serve sets,
// each only when the operator has not set GOGC or GOMEMLIMIT. The limit
// keeps the higher percentage from growing the heap without bound when
// password hashing holds its buffers (one per slot): 512 MiB plus twice the
// hashing memory, so that the collector never runs flat out below the heap
// a password storm needs.
func gcSettings(getenv func(string) string, hashSlots int) (percent int, limit int64) {
	percent, limit = -1, -1 // -1: leave as set
	if getenv("GOGC") == "" {
		percent = serveGCPercent
	}
	if getenv("GOMEMLIMIT") == "" {
		limit = 512<<20 + int64(hashSlots)*2*auth.HashMemory
	}
	return percent, limit
}

func tuneGC(getenv func(string) string, hashConcurrency int, log *slog.Logger) {
	percent, limit := gcSettings(getenv, auth.HashSlots(hashConcurrency))
	if percent > 0 {
		debug.SetGCPercent(percent)
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	gogc := getenv("GOGC")
	if percent > 0 {
		gogc = strconv.Itoa(percent)
	}
	// SetMemoryLimit with a negative value only reads the limit.
	log.Info("garbage collector", "gogc", gogc, "memory_limit_mib", debug.SetMemoryLimit(-1)>>20)
}

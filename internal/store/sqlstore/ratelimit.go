package sqlstore

import (
	"context"
	"time"
)

// Hit is one upsert, so concurrent hits from any instance all count.
func (db *DB) Hit(ctx context.Context, key string, windowStart time.Time) (int, error) {
	var n int
	err := db.writeRow(ctx, `INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
		ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 RETURNING count`,
		key, windowStart.UnixMicro()).Scan(&n)
	return n, wrap("hit", err)
}

// Count is 0 for a window nobody hit.
func (db *DB) Count(ctx context.Context, key string, windowStart time.Time) (int, error) {
	var n int
	err := db.readRow(ctx, `SELECT COALESCE(SUM(count), 0) FROM rate_limits WHERE key = ? AND window_start = ?`,
		key, windowStart.UnixMicro()).Scan(&n)
	return n, wrap("count", err)
}

func (db *DB) DeleteOldHits(ctx context.Context, before time.Time) (int, error) {
	n, err := count(db.exec(ctx, `DELETE FROM rate_limits WHERE window_start < ?`, before.UnixMicro()))
	return n, wrap("delete old hits", err)
}

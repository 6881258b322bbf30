// Package ratelimit counts requests in fixed windows kept in the store, so every
// instance behind a load balancer shares one budget per key (SPEC B3, R2).
package ratelimit

import (
	"context"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// Rule allows Limit hits per Window; a zero Limit disables it.
type Rule struct {
	Limit  int
	Window time.Duration
}

// Limiter applies rules to keys.
type Limiter struct {
	st  store.Store
	now func() time.Time
}

func New(st store.Store, now func() time.Time) *Limiter { return &Limiter{st: st, now: now} }

// Allow counts one hit on key and reports whether it is within the rule, and
// if not, how long until the window resets.
func (l *Limiter) Allow(ctx context.Context, key string, r Rule) (bool, time.Duration, error) {
	if r.Limit <= 0 || r.Window <= 0 {
		return true, 0, nil
	}
	now := l.now()
	start := now.Truncate(r.Window)
	n, err := l.st.Hit(ctx, key, start)
	if err != nil {
		return false, 0, err
	}
	if n > r.Limit {
		return false, start.Add(r.Window).Sub(now), nil
	}
	return true, 0, nil
}

// Count reports key's hits in the current window without adding one.
func (l *Limiter) Count(ctx context.Context, key string, window time.Duration) (int, error) {
	return l.st.Count(ctx, key, l.now().Truncate(window))
}

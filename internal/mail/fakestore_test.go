package mail

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// fakeOutbox stands in for the store: only the outbox methods the mail
// package calls are implemented; any other call panics on the nil Store.
type fakeOutbox struct {
	store.Store

	mu            sync.Mutex
	mails         []*store.Mail
	nextID        int64
	claimFailures int // ClaimMail fails this many times first
	lastLimit     int // limit of the last SentMail call
}

var errStoreDown = errors.New("fake store: down")

// InTx runs fn on the fake itself: its methods lock one at a time, which is
// all the worker's batched bookkeeping needs.
func (f *fakeOutbox) InTx(_ context.Context, fn func(store.Store) error) error { return fn(f) }

func (f *fakeOutbox) EnqueueMail(_ context.Context, m *store.Mail) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	m.ID = f.nextID
	if m.NextTryAt.IsZero() {
		m.NextTryAt = m.CreatedAt
	}
	c := *m
	f.mails = append(f.mails, &c)
	return nil
}

func (f *fakeOutbox) ClaimMail(_ context.Context, limit int, now time.Time, lease time.Duration) ([]*store.Mail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.claimFailures > 0 {
		f.claimFailures--
		return nil, errStoreDown
	}
	var out []*store.Mail
	for _, m := range f.mails {
		if len(out) == limit {
			break
		}
		if m.SentAt.IsZero() && !m.NextTryAt.After(now) {
			m.NextTryAt = now.Add(lease)
			c := *m
			out = append(out, &c)
		}
	}
	return out, nil
}

func (f *fakeOutbox) find(id int64) (*store.Mail, error) {
	for _, m := range f.mails {
		if m.ID == id {
			return m, nil
		}
	}
	return nil, store.ErrNotFound
}

func (f *fakeOutbox) MarkMailSent(_ context.Context, id int64, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.find(id)
	if err != nil {
		return err
	}
	m.SentAt = now
	m.Attempts++
	return nil
}

func (f *fakeOutbox) MarkMailFailed(_ context.Context, id int64, errText string, next time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.find(id)
	if err != nil {
		return err
	}
	m.Attempts++
	m.LastError = errText
	m.NextTryAt = next
	return nil
}

func (f *fakeOutbox) SentMail(_ context.Context, to string, limit int) ([]*store.Mail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastLimit = limit
	var out []*store.Mail
	for _, m := range f.mails {
		if !m.SentAt.IsZero() && (to == "" || m.To == to) {
			c := *m
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *store.Mail) int {
		return cmp.Or(b.SentAt.Compare(a.SentAt), cmp.Compare(b.ID, a.ID))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// get returns a copy of mail id.
func (f *fakeOutbox) get(id int64) store.Mail {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.find(id)
	if err != nil {
		panic(err)
	}
	return *m
}

package auth

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// touchEvery limits last-seen writes to one a minute per session.
const touchEvery = time.Minute

// sessionData is the stage-specific state a pending session carries.
type sessionData struct {
	PendingEmail string `json:"pending_email,omitempty"` // address being verified in setup
	PendingTOTP  []byte `json:"pending_totp,omitempty"`  // sealed secret being enrolled in setup
	// PasskeyStepUpAt is the last passkey step-up of a legacy session (P2).
	PasskeyStepUpAt time.Time `json:"passkey_step_up_at,omitzero"`
}

func decodeData(s *store.Session) sessionData {
	var d sessionData
	if s.Data != "" {
		_ = json.Unmarshal([]byte(s.Data), &d) // our own writes; a bad value reads as empty state
	}
	return d
}

func encodeData(d sessionData) string {
	b, _ := json.Marshal(d)
	if string(b) == "{}" {
		return ""
	}
	return string(b)
}

// startSession creates a session in stage for the customer and returns its token.
// replace, if non-nil, is the session it supersedes: deleting it in the same
// transaction rotates the identifier at every stage change (A6).
func (s *Service) startSession(ctx context.Context, st store.Store, replace *store.Session, customerID int64, stage, method string, passkeyID int64, m Meta) (string, *store.Session, error) {
	if replace != nil {
		if err := endReplaced(ctx, st, replace); err != nil {
			return "", nil, err
		}
	}
	now := s.now()
	ttl := s.cfg.SessionMax
	switch stage {
	case store.StageSecondFactor:
		ttl = s.cfg.PendingTTL
	case store.StageSetup, store.StageRestricted:
		ttl = s.cfg.SetupTTL
	}
	tok, hash := newToken()
	sess := &store.Session{
		IDHash: hash, CustomerID: customerID, Stage: stage, Method: method, PasskeyID: passkeyID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(ttl),
		IP: m.IP, UserAgent: truncate(m.UserAgent, 512),
	}
	if stage == store.StageFull || stage == store.StageRestricted {
		// A login that just proved both factors (or a passkey with user
		// verification) is itself a re-verification for the step-up window.
		sess.AuthenticatedAt, sess.StepUpAt = now, now
	}
	if replace != nil && stage != store.StageFull {
		sess.Data = replace.Data
	}
	if err := st.CreateSession(ctx, sess); err != nil {
		return "", nil, err
	}
	return tok, sess, nil
}

// rotateSession gives sess a new identifier inside st's transaction, keeping
// everything else (A6: at every login and step-up), so that a token copied
// before a step-up does not carry what the step-up granted. It updates sess
// and returns the new token for the cookie.
func (s *Service) rotateSession(ctx context.Context, st store.Store, sess *store.Session) (string, error) {
	if err := endReplaced(ctx, st, sess); err != nil {
		return "", err
	}
	tok, hash := newToken()
	rotated := *sess
	rotated.IDHash = hash
	if err := st.CreateSession(ctx, &rotated); err != nil {
		return "", err
	}
	*sess = rotated
	return tok, nil
}

// endReplaced deletes a session that a new one supersedes. A session already
// replaced or ended (a parallel request won, or a lock deleted it) cannot be
// turned into a new one.
func endReplaced(ctx context.Context, st store.Store, old *store.Session) error {
	if err := st.DeleteSession(ctx, old.IDHash); isNotFound(err) {
		return newErr(CodeNotAuthenticated, errors.New("session already replaced or ended"))
	} else if err != nil {
		return err
	}
	return nil
}

// Current is a resolved session with its customer.
type Current struct {
	Session  *store.Session
	Customer *store.Customer
}

// Full reports a completed login.
func (c *Current) Full() bool { return c != nil && c.Session.Stage == store.StageFull }

// Authenticate resolves a session token. Expired sessions are deleted and
// reported as CodeSessionExpired; an unknown token as CodeNotAuthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (*Current, error) {
	if token == "" || len(token) > 128 {
		return nil, newErr(CodeNotAuthenticated, nil)
	}
	hash := HashToken(token)
	sess, c, err := s.st.SessionWithCustomer(ctx, hash)
	if isNotFound(err) {
		return nil, newErr(CodeNotAuthenticated, nil)
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	idle := s.cfg.SessionIdle
	if sess.Stage != store.StageFull && sess.Stage != store.StageRestricted {
		idle = sess.ExpiresAt.Sub(sess.CreatedAt) // pending stages have only their own TTL
	}
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= idle {
		if err := s.st.DeleteSession(ctx, hash); err != nil && !isNotFound(err) {
			return nil, err
		}
		return nil, newErr(CodeSessionExpired, nil)
	}
	if !c.FrozenAt.IsZero() {
		_, _ = s.st.DeleteCustomerSessions(ctx, c.ID)
		return nil, newErr(CodeAccountFrozen, nil, s.cfg.Brand.Phone)
	}
	if !c.LockedAt.IsZero() && !s.lockExpired(c, now) {
		_, _ = s.st.DeleteCustomerSessions(ctx, c.ID)
		return nil, newErr(CodeAccountLocked, nil, s.cfg.Brand.Phone)
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		sess.LastSeenAt = now
		if err := s.st.UpdateSession(ctx, sess); err != nil {
			return nil, err
		}
	}
	return &Current{Session: sess, Customer: c}, nil
}

// Logout ends one session.
func (s *Service) Logout(ctx context.Context, cur *Current, m Meta) error {
	return s.inTx(ctx, func(st store.Store, _ *bool) error {
		if err := st.DeleteSession(ctx, cur.Session.IDHash); err != nil && !isNotFound(err) {
			return err
		}
		return s.audit(ctx, st, "customer", cur.Customer.ID, "logout", m, nil)
	})
}

// LogoutEverywhere ends every session of the customer, this one included.
// Only a logged-in session may: a password alone must not end the customer's
// other sessions.
func (s *Service) LogoutEverywhere(ctx context.Context, cur *Current, m Meta) (int, error) {
	if !cur.Full() && !cur.Restricted() {
		return 1, s.Logout(ctx, cur, m)
	}
	var n int
	err := s.inTx(ctx, func(st store.Store, _ *bool) error {
		var err error
		if n, err = st.DeleteCustomerSessions(ctx, cur.Customer.ID); err != nil {
			return err
		}
		return s.audit(ctx, st, "customer", cur.Customer.ID, "logout.all", m, map[string]any{"sessions": n})
	})
	return n, err
}

// Sweep deletes expired sessions and ceremonies, old rate-limit counts, and
// sent mails older than the retention; run it periodically. Each step runs
// even if an earlier one failed; the mails come last, since after an upgrade
// the first sweep may have a long backlog of them.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now()
	_, err1 := s.st.DeleteExpiredSessions(ctx, now)
	_, err2 := s.st.DeleteExpiredCeremonies(ctx, now)
	_, err3 := s.st.DeleteOldHits(ctx, now.Add(-24*time.Hour))
	var err4 error
	if r := s.cfg.SentMailRetention; r > 0 {
		_, err4 = s.st.DeleteSentMail(ctx, now.Add(-r))
	}
	return errors.Join(err1, err2, err3, err4)
}

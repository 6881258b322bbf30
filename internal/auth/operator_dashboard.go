package auth

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// The adoption dashboard (O6), for planning the mandatory date: how many of
// the customers who actually log in have a passkey, and how that share moves.

// Dashboard windows.
const (
	ActiveWindow   = 30 * 24 * time.Hour // "active": a successful login within this
	dashboardWeeks = 12                  // weekly points before now
	dashboardDays  = 14                  // days of logins by method
)

// AdoptionPoint is the share of active customers with a passkey at one time.
type AdoptionPoint struct {
	At          time.Time `json:"at"`
	Active      int       `json:"active"`
	WithPasskey int       `json:"with_passkey"`
}

// Share is WithPasskey/Active (0 when nobody is active).
func (p AdoptionPoint) Share() float64 {
	if p.Active == 0 {
		return 0
	}
	return float64(p.WithPasskey) / float64(p.Active)
}

// NameCount is a count under a name.
type NameCount struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// DayLogins counts one day's successful logins by method (a day in Japan).
type DayLogins struct {
	Day           time.Time `json:"day"` // midnight, Asia/Tokyo
	Passkey       int       `json:"passkey"`
	PasswordTOTP  int       `json:"password_totp"`
	PasswordEmail int       `json:"password_email"`
	Other         int       `json:"other"`
}

// Total is the day's logins.
func (d DayLogins) Total() int { return d.Passkey + d.PasswordTOTP + d.PasswordEmail + d.Other }

// Dashboard is the adoption dashboard's figures.
type Dashboard struct {
	At     time.Time       `json:"at"`
	Now    AdoptionPoint   `json:"now"`
	Weekly []AdoptionPoint `json:"weekly"` // oldest first, the last one is Now
	// Synced and DeviceBound count the active passkeys by backup state (BS).
	Synced         int         `json:"synced"`
	DeviceBound    int         `json:"device_bound"`
	Authenticators []NameCount `json:"authenticators"` // most first
	Days           []DayLogins `json:"days"`           // oldest first, every day present
	// Restricted counts the active customers without an active passkey: who
	// would be restricted if passkeys became mandatory tomorrow (P1, P3).
	Restricted       int                    `json:"restricted"`
	RestrictedSample []store.ActiveCustomer `json:"restricted_sample"`
}

// dashboardZone is Japan's, for the dashboard's day boundaries.
var dashboardZone = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("JST", 9*3600)
}()

// Dashboard computes the figures as of now.
func (c *Console) Dashboard(ctx context.Context, sample int) (*Dashboard, error) {
	st := c.s.st
	now := c.s.now()
	d := &Dashboard{At: now}
	for w := dashboardWeeks; w >= 0; w-- {
		at := now.Add(-time.Duration(w) * 7 * 24 * time.Hour)
		active, with, err := st.AdoptionAt(ctx, at, ActiveWindow)
		if err != nil {
			return nil, err
		}
		d.Weekly = append(d.Weekly, AdoptionPoint{At: at, Active: active, WithPasskey: with})
	}
	d.Now = d.Weekly[len(d.Weekly)-1]

	groups, err := st.PasskeyGroups(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]int{}
	for _, g := range groups {
		if g.BackupState {
			d.Synced += g.Count
		} else {
			d.DeviceBound += g.Count
		}
		byName[AuthenticatorName(&store.Passkey{AAGUID: g.AAGUID, Transports: g.Transports}, "ja")] += g.Count
	}
	for name, n := range byName {
		d.Authenticators = append(d.Authenticators, NameCount{name, n})
	}
	slices.SortFunc(d.Authenticators, func(a, b NameCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name))
	})

	today := now.In(dashboardZone)
	first := time.Date(today.Year(), today.Month(), today.Day()-(dashboardDays-1), 0, 0, 0, 0, dashboardZone)
	days, err := st.LoginsByDay(ctx, first)
	if err != nil {
		return nil, err
	}
	index := map[string]int{}
	for i := range dashboardDays {
		day := time.Date(first.Year(), first.Month(), first.Day()+i, 0, 0, 0, 0, dashboardZone)
		index[day.Format(time.DateOnly)] = i
		d.Days = append(d.Days, DayLogins{Day: day})
	}
	for _, x := range days {
		i, ok := index[x.Day.In(dashboardZone).Format(time.DateOnly)]
		if !ok {
			continue
		}
		switch x.Method {
		case store.MethodPasskey:
			d.Days[i].Passkey += x.Count
		case store.MethodPasswordTOTP:
			d.Days[i].PasswordTOTP += x.Count
		case store.MethodPasswordEmail:
			d.Days[i].PasswordEmail += x.Count
		default:
			d.Days[i].Other += x.Count
		}
	}

	d.Restricted, d.RestrictedSample, err = st.ActiveWithoutPasskey(ctx, now.Add(-ActiveWindow), sample)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// alertEvents are the audit events that ask for an operator's attention.
var alertEvents = []string{"alert.passkey_clone", "alert.operator_passkey_clone"}

// Alerts lists the latest operator alerts (K10: a passkey suspended as
// possibly cloned), newest first.
func (c *Console) Alerts(ctx context.Context, limit int) ([]*store.AuditEntry, error) {
	var all []*store.AuditEntry
	for _, ev := range alertEvents {
		es, err := c.s.st.AuditByEvent(ctx, ev, limit)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	}
	slices.SortFunc(all, func(a, b *store.AuditEntry) int { return cmp.Compare(b.Seq, a.Seq) })
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

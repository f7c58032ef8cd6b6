package console

import (
	"context"
	"html/template"
	"regexp"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/lifecycle"
)

// DateFormat is how the console shows a time; a missing one is "never".
const DateFormat = "2 Jan 2006 15:04 UTC"

// FormatTime shows t in the console's format, or "never" for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(DateFormat)
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return FormatTime(*t)
}

var funcs = template.FuncMap{
	"date":       FormatTime,
	"datep":      formatTimePtr,
	"roleForm":   roleFormFor,
	"roleFormOf": roleFormOf,
}

// integrationView is one integration as the pages show it.
type integrationView struct {
	ID               string
	Type             string
	TypeName         string
	Nickname         string
	Label            string
	Status           domain.Status
	StatusLabel      string
	StatusClass      string
	StatusNote       string
	StatusDetail     string // the technical text behind StatusNote, behind "Technical details"
	LastCheck        string
	LastSalesCheck   string
	LastSaleImported string
	Created          string
	Deactivated      string
	StoreID          string
	Active           bool
	CanCheck         bool
	CanResume        bool
	CanRestore       bool
	CanDeactivate    bool
}

// statusNotes say what each status means for the merchant, shown under the badge.
var statusNotes = map[domain.Status]string{
	domain.StatusInitializing: "Just added; completing the setup process",
	domain.StatusHealthy:      "Enabled and running",
	domain.StatusFailed:       "The most recent attempt failed; the next success makes it Healthy again",
	domain.StatusCalledOff:    "Halted; it needs your action to resume",
	domain.StatusInactive:     "Deactivated; no syncing, all data kept",
}

func (c *Console) view(i domain.Integration) integrationView {
	name := c.d.Lifecycle.DisplayName(i.Type)
	v := integrationView{
		ID: i.ID, Type: i.Type, TypeName: name, Nickname: i.Nickname, Label: i.Label(name),
		Status: i.Status, StatusLabel: lifecycle.StatusLabel(i.Status), StatusClass: "badge-" + strings.ReplaceAll(string(i.Status), "_", "-"),
		StatusNote: statusNotes[i.Status], LastCheck: formatTimePtr(i.LastCheckAt),
		LastSalesCheck: formatTimePtr(i.LastSalesCheckAt), LastSaleImported: formatTimePtr(i.LastSaleImportedAt),
		Created: FormatTime(i.CreatedAt), Deactivated: formatTimePtr(i.DeactivatedAt), StoreID: i.StoreID,
		Active: i.Status.Active(), CanCheck: i.CheckAllowed() == nil, CanResume: i.Status == domain.StatusCalledOff,
		CanRestore: i.Status == domain.StatusInactive, CanDeactivate: i.Status.Active(),
	}
	if (i.Status == domain.StatusFailed || i.Status == domain.StatusCalledOff) && i.StatusReason != "" {
		e := domain.Explain(i.StatusReason)
		v.StatusNote, v.StatusDetail = e.Text, e.Detail
	}
	return v
}

func (c *Console) views(list []domain.Integration) []integrationView {
	out := make([]integrationView, 0, len(list))
	for _, i := range list {
		out = append(out, c.view(i))
	}
	return out
}

// timelineView is one timeline entry as shown.
type timelineView struct {
	At            string
	Integration   string
	IntegrationID string
	Actor         string
	Kind          string
	Message       string
	Detail        string // the technical text behind Message, when it had one
}

// actorName shows who acted: a user's email, "posbridge" for the system, "API" for the app.
func actorName(actor string) string {
	switch {
	case strings.HasPrefix(actor, "user:"):
		return strings.TrimPrefix(actor, "user:")
	case actor == domain.ActorSystem:
		return "posbridge"
	case actor == domain.ActorAPI:
		return "API"
	}
	return actor
}

// kindNames are short words for the timeline's entry kinds.
var kindNames = map[string]string{
	domain.KindIntegrationAdded:   "Added",
	domain.KindIntegrationChecked: "Checked",
	domain.KindSalesFetched:       "Sales",
	domain.KindStatusChanged:      "Status",
	domain.KindSettingsChanged:    "Settings",
	domain.KindDeactivated:        "Deactivated",
	domain.KindRestored:           "Restored",
	domain.KindResumed:            "Resumed",
	domain.KindStoresLoaded:       "Stores",
	domain.KindNotification:       "Notification",
	domain.KindNotificationFailed: "Notification failed",
	domain.KindWebhookEndpoint:    "Webhook endpoint",
	"order_sync.settings_changed": "Automatic sync",
	domain.KindCircuitOpened:      "Sending paused",
	domain.KindCircuitClosed:      "Sending resumed",
}

var urlPattern = regexp.MustCompile(`https?://[^\s"']+`)

func (c *Console) timelineViews(entries []domain.TimelineEntry, labels map[string]string) []timelineView {
	out := make([]timelineView, 0, len(entries))
	for _, e := range entries {
		kind := kindNames[e.Kind]
		if kind == "" {
			kind = e.Kind
		}
		// A URL with an id in it (posbridge's webhook address) goes to the details, not the sentence.
		var urls []string
		msg := urlPattern.ReplaceAllStringFunc(e.Message, func(u string) string {
			if !domain.IsTechnical(u) {
				return u
			}
			urls = append(urls, u)
			return "\x00"
		})
		msg = strings.ReplaceAll(strings.ReplaceAll(msg, " at \x00", ""), "\x00", "(see the details)")
		msg = domain.ReplaceIDs(msg, func(id string) string {
			if l := labels[id]; l != "" {
				return l
			}
			if strings.HasPrefix(id, "int_") {
				return "a removed integration"
			}
			return ""
		})
		ex := domain.Explain(msg)
		if len(urls) > 0 {
			ex.Detail = strings.TrimSpace(ex.Detail + "\n" + strings.Join(urls, "\n"))
		}
		out = append(out, timelineView{At: FormatTime(e.At), Integration: labels[e.IntegrationID], IntegrationID: e.IntegrationID,
			Actor: actorName(e.Actor), Kind: kind, Message: ex.Text, Detail: ex.Detail})
	}
	return out
}

// integrationLabels names every integration of the account (active or not) as the console shows
// it: type and nickname; two of one type without nicknames are told apart by when they were added.
func (c *Console) integrationLabels(ctx context.Context, accountID string) (map[string]string, error) {
	all, err := c.d.Lifecycle.List(ctx, accountID, "")
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	seen := map[string]int{}
	for _, i := range all {
		l := i.Label(c.d.Lifecycle.DisplayName(i.Type))
		labels[i.ID] = l
		seen[l]++
	}
	for _, i := range all {
		if l := labels[i.ID]; seen[l] > 1 {
			labels[i.ID] = l + " (added " + i.CreatedAt.UTC().Format("2 Jan 15:04") + ")"
		}
	}
	return labels, nil
}

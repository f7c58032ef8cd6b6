package app

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// sandboxStores starts a simulator of every real provider that has one, each served by this
// server under /sandbox/<type>/, so a merchant can try WooCommerce, Square, Shopify or
// Lightspeed without an account ("sandbox": true when adding an integration). Their state lives
// in this process's memory; posbridge's own Sandbox POS is the one that persists.
func (a *App) sandboxStores(providers []connector.Provider, mux *http.ServeMux) map[string]connector.Simulator {
	sims := map[string]connector.Simulator{}
	hooksOnly := &http.Client{Timeout: 10 * time.Second, Transport: ownHooksOnly{app: a, next: http.DefaultTransport},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range providers {
		if p.SelfHosted || p.NewSimulator == nil {
			continue
		}
		sim := p.NewSimulator(25)
		if d, ok := sim.(connector.DeliveryClientSetter); ok {
			d.SetDeliveryClient(hooksOnly)
		}
		sims[p.Type] = sim
		if mux != nil {
			prefix := "/sandbox/" + p.Type
			mux.Handle(prefix+"/", mountSimulator(prefix, sim))
		}
	}
	return sims
}

// mountSimulator serves a simulator (written for the root of its own host) below prefix: the
// prefix is stripped from requests and added back to the absolute URLs of Link headers.
func mountSimulator(prefix string, sim http.Handler) http.Handler {
	inner := http.StripPrefix(prefix, sim)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(&linkFixer{ResponseWriter: w, host: r.Host, prefix: prefix}, r)
	})
}

type linkFixer struct {
	http.ResponseWriter
	host, prefix string
	done         bool
}

func (l *linkFixer) fix() {
	if l.done {
		return
	}
	l.done = true
	h := l.Header()
	if v := h.Get("Link"); v != "" {
		v = strings.ReplaceAll(v, "://"+l.host+"/", "://"+l.host+l.prefix+"/")
		h.Set("Link", v)
	}
}

func (l *linkFixer) WriteHeader(code int) { l.fix(); l.ResponseWriter.WriteHeader(code) }

func (l *linkFixer) Write(b []byte) (int, error) { l.fix(); return l.ResponseWriter.Write(b) }

func (l *linkFixer) Flush() {
	if f, ok := l.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ownHooksOnly lets sandbox simulators deliver webhooks to this server's /hooks/ only.
type ownHooksOnly struct {
	app  *App
	next http.RoundTripper
}

func (o ownHooksOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := o.app.ownHookURL(r.URL); err != nil {
		return nil, fmt.Errorf("sandbox webhook to %s refused: %w", r.URL.Host, err)
	}
	return o.next.RoundTrip(r)
}

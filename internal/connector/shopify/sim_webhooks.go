package shopify

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

// simWebhook is the REST Webhook resource as Shopify answers it: every field, empty lists as [].
type simWebhook struct {
	ID                  int64    `json:"id"`
	Address             string   `json:"address"`
	Topic               string   `json:"topic"`
	CreatedAt           string   `json:"created_at"`
	UpdatedAt           string   `json:"updated_at"`
	Format              string   `json:"format"`
	Fields              []string `json:"fields"`
	MetafieldNamespaces []string `json:"metafield_namespaces"`
	APIVersion          string   `json:"api_version"`
}

// webhookInput is what a create or update may set.
type webhookInput struct {
	Address             *string  `json:"address"`
	Topic               *string  `json:"topic"`
	Format              *string  `json:"format"`
	Fields              []string `json:"fields"`
	MetafieldNamespaces []string `json:"metafield_namespaces"`
}

var webhookTopics = map[string]bool{
	"orders/create": true, "orders/updated": true, "orders/cancelled": true, "orders/delete": true, "orders/paid": true,
	"orders/edited": true, "products/create": true, "products/update": true, "products/delete": true,
	"inventory_levels/update": true, "customers/create": true, "customers/update": true,
}

// webhooksRoute answers /webhooks.json, /webhooks/count.json and /webhooks/{id}.json.
func (s *Simulator) webhooksRoute(w http.ResponseWriter, r *http.Request, rest []string) {
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		s.mu.Lock()
		list := []simWebhook{}
		for _, h := range s.webhooks {
			if (r.URL.Query().Get("topic") == "" || h.Topic == r.URL.Query().Get("topic")) &&
				(r.URL.Query().Get("address") == "" || h.Address == r.URL.Query().Get("address")) {
				list = append(list, *h)
			}
		}
		s.mu.Unlock()
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		writeJSON(w, http.StatusOK, map[string]any{"webhooks": list})
	case len(rest) == 0 && r.Method == http.MethodPost:
		s.saveWebhook(w, r, 0)
	case len(rest) == 1 && rest[0] == "count" && r.Method == http.MethodGet:
		s.mu.Lock()
		n := len(s.webhooks)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"count": n})
	case len(rest) == 1:
		id, _ := strconv.ParseInt(rest[0], 10, 64)
		s.mu.Lock()
		h, ok := s.webhooks[id]
		var cur simWebhook
		if ok {
			cur = *h
		}
		s.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, errorsBody(msgNotFound))
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"webhook": cur})
		case http.MethodPut:
			s.saveWebhook(w, r, id)
		case http.MethodDelete:
			s.mu.Lock()
			delete(s.webhooks, id)
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]any{})
		default:
			writeJSON(w, http.StatusNotFound, errorsBody(msgNotFound))
		}
	default:
		writeJSON(w, http.StatusNotFound, errorsBody(msgNotFound))
	}
}

// saveWebhook creates a subscription (id 0) or updates one; only the fields sent change.
func (s *Simulator) saveWebhook(w http.ResponseWriter, r *http.Request, id int64) {
	var body struct {
		Webhook *webhookInput `json:"webhook"`
	}
	if err := decodeBody(r, &body); err != nil || body.Webhook == nil {
		badJSON(w)
		return
	}
	in := body.Webhook
	s.mu.Lock()
	defer s.mu.Unlock()
	h := simWebhook{Format: "json", Fields: []string{}, MetafieldNamespaces: []string{}, APIVersion: APIVersion}
	if id != 0 {
		cur, ok := s.webhooks[id]
		if !ok {
			writeJSON(w, http.StatusNotFound, errorsBody(msgNotFound))
			return
		}
		h = *cur
	}
	if in.Address != nil {
		h.Address = *in.Address
	}
	if in.Topic != nil {
		h.Topic = *in.Topic
	}
	if in.Format != nil {
		h.Format = *in.Format
	}
	if in.Fields != nil {
		h.Fields = in.Fields
	}
	if in.MetafieldNamespaces != nil {
		h.MetafieldNamespaces = in.MetafieldNamespaces
	}
	errs := map[string][]string{}
	if !webhookTopics[h.Topic] {
		errs["topic"] = []string{"Invalid topic specified: " + h.Topic}
	}
	if u, err := url.Parse(h.Address); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs["address"] = []string{"is invalid"}
	}
	switch h.Format {
	case "json":
	case "xml": // Shopify can send XML; the simulator cannot, and says so rather than send JSON
		errs["format"] = []string{"xml is not supported by the simulator"}
	default:
		errs["format"] = []string{"is not included in the list"}
	}
	for xid, x := range s.webhooks {
		if xid != id && x.Topic == h.Topic && x.Address == h.Address {
			errs["address"] = []string{"for this topic has already been taken"}
		}
	}
	if len(errs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, errorsBody(errs))
		return
	}
	now, _ := s.stamp()
	status := http.StatusOK
	if id == 0 {
		h.ID = s.id()
		h.CreatedAt = now
		status = http.StatusCreated
	}
	h.UpdatedAt = now
	s.webhooks[h.ID] = &h
	writeJSON(w, status, map[string]any{"webhook": h})
}

// notify sends topic to every subscription of it, signed as Shopify signs; a subscription with
// fields gets only those top-level fields. Callers hold s.mu.
func (s *Simulator) notify(topic string, payload any) {
	var subs []simWebhook
	for _, h := range s.webhooks {
		if h.Topic == topic {
			subs = append(subs, *h)
		}
	}
	if len(subs) == 0 {
		return
	}
	full, err := json.Marshal(payload)
	if err != nil {
		return
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].ID < subs[j].ID })
	for _, h := range subs {
		body := full
		if len(h.Fields) > 0 {
			body = onlyFields(full, h.Fields)
		}
		header := s.deliveryHeader(topic, body, s.id())
		s.pending.Add(1)
		go s.deliver(h, topic, header, body)
	}
}

// onlyFields keeps the named top-level fields of a JSON object.
func onlyFields(body []byte, fields []string) []byte {
	var all map[string]json.RawMessage
	if json.Unmarshal(body, &all) != nil {
		return body
	}
	out := map[string]json.RawMessage{}
	for _, f := range fields {
		if v, ok := all[f]; ok {
			out[f] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return body
	}
	return b
}

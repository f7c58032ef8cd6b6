package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/posbridge/posbridge/internal/backoffice"
	"github.com/posbridge/posbridge/internal/domain"
)

// SetBackOffice sets the back-office service (drafts, publish, terminals).
func (a *API) SetBackOffice(s *backoffice.Service) { a.bo = s }

func (a *API) backOffice() (*backoffice.Service, error) {
	if a.bo == nil {
		return nil, &domain.Error{Code: domain.CodeNotFound, Message: "the back office is not available on this server"}
	}
	return a.bo, nil
}

func (a *API) getDraft(w http.ResponseWriter, r *http.Request, _ string) error {
	bo, err := a.backOffice()
	if err != nil {
		return err
	}
	d, err := bo.GetDraft(r.Context(), principal(r), r.URL.Query().Get("store_id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// DraftRequest is the body of PUT /api/v1/back-office/draft.
type DraftRequest struct {
	Content backoffice.Content `json:"content"`
}

func (a *API) putDraft(w http.ResponseWriter, r *http.Request, _ string) error {
	bo, err := a.backOffice()
	if err != nil {
		return err
	}
	var in DraftRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := bo.SaveDraft(r.Context(), principal(r), r.URL.Query().Get("store_id"), in.Content)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// PublishRequest is the body of POST /api/v1/back-office/publish.
type PublishRequest struct {
	StoreID string `json:"store_id"`
}

func (a *API) publish(w http.ResponseWriter, r *http.Request, _ string) error {
	bo, err := a.backOffice()
	if err != nil {
		return err
	}
	var in PublishRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := bo.Publish(r.Context(), principal(r), in.StoreID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"version": v.Version, "delivers_at": v.DeliversAt, "diff": v.Diff})
}

func (a *API) versions(w http.ResponseWriter, r *http.Request, _ string) error {
	bo, err := a.backOffice()
	if err != nil {
		return err
	}
	vs, err := bo.Versions(r.Context(), principal(r), r.URL.Query().Get("store_id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": vs})
}

func (a *API) getVersion(w http.ResponseWriter, r *http.Request, _ string) error {
	bo, err := a.backOffice()
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || n < 1 {
		return domain.Invalid("version", "the version is a number from 1")
	}
	v, err := bo.GetVersion(r.Context(), principal(r), r.URL.Query().Get("store_id"), n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (a *API) pairingCode(w http.ResponseWriter, r *http.Request, _ string) error {
	bo, err := a.backOffice()
	if err != nil {
		return err
	}
	var in PublishRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	code, exp, err := bo.CreatePairingCode(r.Context(), principal(r), in.StoreID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"code": code, "expires_at": exp.UTC().Format(time.RFC3339)})
}

func (a *API) listTerminals(w http.ResponseWriter, r *http.Request, _ string) error {
	bo, err := a.backOffice()
	if err != nil {
		return err
	}
	ts, err := bo.Terminals(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": ts})
}

func (a *API) revokeTerminal(w http.ResponseWriter, r *http.Request, _ string) error {
	bo, err := a.backOffice()
	if err != nil {
		return err
	}
	if err := bo.RevokeTerminal(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getBackOfficeSettings(w http.ResponseWriter, r *http.Request, _ string) error {
	bo, err := a.backOffice()
	if err != nil {
		return err
	}
	st, err := bo.GetSettings(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// BackOfficeSettingsRequest is the body of PUT /api/v1/back-office/settings.
type BackOfficeSettingsRequest struct {
	PublishDelaySeconds *int `json:"publish_delay_seconds"`
}

func (a *API) putBackOfficeSettings(w http.ResponseWriter, r *http.Request, _ string) error {
	bo, err := a.backOffice()
	if err != nil {
		return err
	}
	var in BackOfficeSettingsRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.PublishDelaySeconds == nil {
		return domain.Invalid("publish_delay_seconds", "publish_delay_seconds is required: the seconds after Save and Publish when terminals get the version")
	}
	st, err := bo.SaveSettings(r.Context(), principal(r), *in.PublishDelaySeconds)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

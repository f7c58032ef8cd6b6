package api

import (
	"bytes"
	"io"
	"net/http"

	"github.com/posbridge/posbridge/internal/catalogsync"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jsonin"
)

// SetCatalog connects the catalog sync engine.
func (a *API) SetCatalog(c *catalogsync.Service) { a.catalog = c }

// CatalogSyncRequest is the body of PUT /api/v1/catalog-sync: the fields sent change, the
// others keep their value. destinations, when sent, is the whole list.
type CatalogSyncRequest struct {
	SourceIntegrationID *string                      `json:"source_integration_id"`
	Enabled             *bool                        `json:"enabled"`
	Destinations        *[]CatalogDestinationRequest `json:"destinations"`
}

// CatalogDestinationRequest is one destination of CatalogSyncRequest. owned_fields and
// empty_overwrites left out keep the destination's current values, or take the defaults
// (["weight","categories"], true) for a new destination.
type CatalogDestinationRequest struct {
	IntegrationID   string    `json:"integration_id"`
	OwnedFields     *[]string `json:"owned_fields"`
	EmptyOverwrites *bool     `json:"empty_overwrites"`
}

func (a *API) getCatalogSync(w http.ResponseWriter, r *http.Request, acct string) error {
	st, err := a.catalog.Settings(r.Context(), acct)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (a *API) putCatalogSync(w http.ResponseWriter, r *http.Request, acct string) error {
	cur, err := a.catalog.Settings(r.Context(), acct)
	if err != nil {
		return err
	}
	var in CatalogSyncRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	next := cur
	if in.SourceIntegrationID != nil {
		next.SourceIntegrationID = *in.SourceIntegrationID
	}
	if in.Enabled != nil {
		next.Enabled = *in.Enabled
	}
	if in.Destinations != nil {
		old := map[string]domain.CatalogDestination{}
		for _, d := range cur.Destinations {
			old[d.IntegrationID] = d
		}
		next.Destinations = make([]domain.CatalogDestination, 0, len(*in.Destinations))
		for _, d := range *in.Destinations {
			nd, ok := old[d.IntegrationID]
			if !ok {
				nd = domain.CatalogDestination{IntegrationID: d.IntegrationID, OwnedFields: domain.DefaultOwnedFields(), EmptyOverwrites: true}
			}
			if d.OwnedFields != nil {
				nd.OwnedFields = append([]string{}, *d.OwnedFields...)
			}
			if d.EmptyOverwrites != nil {
				nd.EmptyOverwrites = *d.EmptyOverwrites
			}
			next.Destinations = append(next.Destinations, nd)
		}
	}
	out, err := a.catalog.SaveSettings(r.Context(), acct, domain.ActorAPI, next)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) startCatalogImport(w http.ResponseWriter, r *http.Request, acct string) error {
	if err := decodeOptional(r); err != nil {
		return err
	}
	imp, err := a.catalog.StartImport(r.Context(), acct, domain.ActorAPI)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, imp)
}

func (a *API) catalogProgress(w http.ResponseWriter, r *http.Request, acct string) error {
	imp, err := a.catalog.Progress(r.Context(), acct)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, imp)
}

// decodeOptional accepts an empty body or an empty JSON object (a POST that takes no fields).
func decodeOptional(r *http.Request) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return &domain.Error{Code: domain.CodeTooLarge, Message: "the body is too large"}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var none struct{}
	return jsonin.Decode(bytes.NewReader(b), &none)
}

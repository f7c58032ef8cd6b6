package lifecycle

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

var integrationsDesc = prometheus.NewDesc("posbridge_integrations", "Integrations by status, all accounts.", []string{"status"}, nil)

// statusCollector reports how many integrations are in each status, read at scrape time.
type statusCollector struct{ st *store.Store }

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) { ch <- integrationsDesc }

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.st.StatusCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(integrationsDesc, err)
		return
	}
	for _, st := range []domain.Status{domain.StatusInitializing, domain.StatusHealthy, domain.StatusFailed, domain.StatusCalledOff, domain.StatusInactive} {
		ch <- prometheus.MustNewConstMetric(integrationsDesc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}

package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// The GraphQL Admin API documents throttling as a THROTTLED error (HTTP 200) with the bucket's
// state in extensions.cost.throttleStatus (restoring 100 points a second on the Standard plan).
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
	Extensions struct {
		Cost struct {
			RequestedQueryCost float64  `json:"requestedQueryCost"`
			ActualQueryCost    *float64 `json:"actualQueryCost"`
			ThrottleStatus     struct {
				MaximumAvailable   float64 `json:"maximumAvailable"`
				CurrentlyAvailable float64 `json:"currentlyAvailable"`
				RestoreRate        float64 `json:"restoreRate"`
			} `json:"throttleStatus"`
		} `json:"cost"`
	} `json:"extensions"`
}

type userError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code"`
}

func userErrorsErr(op string, ue []userError) error {
	if len(ue) == 0 {
		return nil
	}
	var msgs []string
	for _, u := range ue {
		msgs = append(msgs, u.Message)
	}
	return fmt.Errorf("%s: %w", op, &connector.Error{Kind: connector.KindInvalid, Status: http.StatusOK, Code: ue[0].Code, Message: strings.Join(msgs, "; ")})
}

// GraphQLThrottled returns how many THROTTLED answers the client has met (and waited out).
func (c *Client) GraphQLThrottled() int64 { return c.gqlThrottled.Load() }

// GraphQLCost returns the points the shop has charged the client's GraphQL calls (actual cost).
func (c *Client) GraphQLCost() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gqlSpent
}

// graphql runs one GraphQL Admin API operation and decodes its data into out. It is paced by
// cost (costBucket): it waits until the operation's requested cost is available at the shop, so
// it meets no THROTTLED answer while it is the only caller of the app at the shop. A THROTTLED
// answer all the same (another caller spent the bucket) is waited out, until the bucket has
// restored the query's cost, up to Options.MaxRateLimitWaits times, and is then a rate-limited
// error carrying that wait (a worker snoozes on it). A query is sent again after a 5xx or a
// timeout (do's retries); a mutation is not, since the shop may have done it. Other errors are
// returned, never repeated.
func (c *Client) graphql(ctx context.Context, op, query string, vars map[string]any, out any) error {
	body := map[string]any{"query": query, "variables": vars}
	cost := float64(queryCost(query, vars))
	// A query may be sent again after a 5xx or a timeout; a mutation may have been done and is not.
	mutation := strings.HasPrefix(strings.TrimSpace(query), "mutation")
	retry := connector.Retry{Waits: c.opts.MaxRateLimitWaits, Unsafe: true}
	var res gqlResponse
	err := retry.Do(ctx, func() error {
		res = gqlResponse{}
		t, err := c.cost.reserve(ctx, cost)
		if err != nil {
			return connector.Stop(fmt.Errorf("%s: %w", op, err))
		}
		_, err = c.do(ctx, call{op: op, method: http.MethodPost, path: "graphql.json", body: body, graphql: true, unsafe: mutation}, &res)
		ts := res.Extensions.Cost.ThrottleStatus
		charged := cost // no answer: the shop may have run it
		if a := res.Extensions.Cost.ActualQueryCost; a != nil {
			charged = *a
		} else if ts.MaximumAvailable > 0 {
			charged = 0 // an answer without an actual cost ran nothing (THROTTLED, over the maximum)
		}
		c.cost.done(t, ts.MaximumAvailable, ts.CurrentlyAvailable, ts.RestoreRate, charged)
		if err != nil {
			return connector.Stop(err) // do waited out what it may
		}
		if a := res.Extensions.Cost.ActualQueryCost; a != nil {
			c.mu.Lock()
			c.gqlSpent += *a
			c.mu.Unlock()
		}
		if len(res.Errors) == 0 {
			return nil
		}
		e := &connector.Error{Kind: connector.KindInvalid, Status: http.StatusOK, Code: res.Errors[0].Extensions.Code}
		switch e.Code {
		case "THROTTLED":
			c.gqlThrottled.Add(1)
			e.Kind = connector.KindRateLimited
			e.RetryAfter = time.Second
			if ts.RestoreRate > 0 {
				e.RetryAfter = time.Duration((res.Extensions.Cost.RequestedQueryCost - ts.CurrentlyAvailable) / ts.RestoreRate * float64(time.Second))
			}
			e.RetryAfter = max(e.RetryAfter, 10*time.Millisecond)
		case "ACCESS_DENIED":
			e.Kind = connector.KindCredentials
		case "INTERNAL_SERVER_ERROR":
			e.Kind = connector.KindTemporary
		}
		var msgs []string
		for _, m := range res.Errors {
			msgs = append(msgs, m.Message)
		}
		e.Message = strings.Join(msgs, "; ")
		return fmt.Errorf("%s: %w", op, e)
	})
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			return fmt.Errorf("%s: decode data: %w", op, err)
		}
	}
	return nil
}

func gid(kind string, id int64) string {
	return "gid://shopify/" + kind + "/" + strconv.FormatInt(id, 10)
}

func gidNumber(g string) int64 {
	i := strings.LastIndex(g, "/")
	n, _ := strconv.ParseInt(g[i+1:], 10, 64)
	return n
}

// qEditBegin reads at most 200 lines of the order: four objects a line, at 250 the query would
// cost more than the 1,000 points one query may request.
const (
	qEditBegin = `mutation posbridgeOrderEditBegin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder {
      id
      lineItems(first: 200) {
        nodes { id quantity title sku variant { id } originalUnitPriceSet { shopMoney { amount currencyCode } } }
      }
    }
    userErrors { field message }
  }
}`
	qEditAddVariant = `mutation posbridgeOrderEditAddVariant($id: ID!, $variantId: ID!, $quantity: Int!) {
  orderEditAddVariant(id: $id, variantId: $variantId, quantity: $quantity, allowDuplicates: true) {
    calculatedLineItem { id }
    userErrors { field message }
  }
}`
	qEditAddCustomItem = `mutation posbridgeOrderEditAddCustomItem($id: ID!, $title: String!, $price: MoneyInput!, $quantity: Int!) {
  orderEditAddCustomItem(id: $id, title: $title, price: $price, quantity: $quantity) {
    calculatedLineItem { id }
    userErrors { field message }
  }
}`
	qEditSetQuantity = `mutation posbridgeOrderEditSetQuantity($id: ID!, $lineItemId: ID!, $quantity: Int!) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: true) {
    calculatedLineItem { id }
    userErrors { field message }
  }
}`
	qEditCommit = `mutation posbridgeOrderEditCommit($id: ID!) {
  orderEditCommit(id: $id, notifyCustomer: false, staffNote: "Updated by posbridge") {
    order { id }
    userErrors { field message }
  }
}`
)

type calcLine struct {
	ID       string `json:"id"`
	Quantity int    `json:"quantity"`
	Title    string `json:"title"`
	SKU      string `json:"sku"`
	Variant  *struct {
		ID string `json:"id"`
	} `json:"variant"`
	OriginalUnitPriceSet struct {
		ShopMoney struct {
			Amount       string `json:"amount"`
			CurrencyCode string `json:"currencyCode"`
		} `json:"shopMoney"`
	} `json:"originalUnitPriceSet"`
}

// lineKey tells lines apart for the diff: a catalog variant by its id, a custom line by its
// title and unit price.
func lineKey(variantID int64, title string, unit int64) string {
	if variantID != 0 {
		return "v:" + strconv.FormatInt(variantID, 10)
	}
	return "t:" + title + "|" + strconv.FormatInt(unit, 10)
}

// editLines makes the order's lines match want through one order-edit session; it commits
// only when something changed.
func (c *Client) editLines(ctx context.Context, orderID int64, want []domain.OrderLine, currency string) error {
	type wanted struct {
		line    domain.OrderLine
		variant int64
		qty     int
	}
	desired := map[string]*wanted{}
	var order []string
	for _, l := range want {
		li, err := lineBody(l, currency)
		if err != nil {
			return err
		}
		var v int64
		if li.VariantID != nil {
			v = *li.VariantID
		}
		k := lineKey(v, l.Name, l.UnitPrice.Amount)
		if w, ok := desired[k]; ok {
			w.qty += li.Quantity
			continue
		}
		desired[k] = &wanted{line: l, variant: v, qty: li.Quantity}
		order = append(order, k)
	}

	var begin struct {
		OrderEditBegin struct {
			CalculatedOrder struct {
				ID        string `json:"id"`
				LineItems struct {
					Nodes []calcLine `json:"nodes"`
				} `json:"lineItems"`
			} `json:"calculatedOrder"`
			UserErrors []userError `json:"userErrors"`
		} `json:"orderEditBegin"`
	}
	if err := c.graphql(ctx, "begin order edit", qEditBegin, map[string]any{"id": gid("Order", orderID)}, &begin); err != nil {
		return err
	}
	if err := userErrorsErr("begin order edit", begin.OrderEditBegin.UserErrors); err != nil {
		return err
	}
	calc := begin.OrderEditBegin.CalculatedOrder
	changed := false
	seen := map[string]bool{}
	for _, n := range calc.LineItems.Nodes {
		unit, err := parseMoney(n.OriginalUnitPriceSet.ShopMoney.Amount, currency)
		if err != nil {
			return fmt.Errorf("line %s price: %w", n.ID, err)
		}
		var v int64
		if n.Variant != nil {
			v = gidNumber(n.Variant.ID)
		}
		k := lineKey(v, n.Title, unit)
		target := 0
		if w, ok := desired[k]; ok && !seen[k] {
			target = w.qty
		}
		seen[k] = true
		if n.Quantity == target {
			continue
		}
		var out struct {
			OrderEditSetQuantity struct {
				UserErrors []userError `json:"userErrors"`
			} `json:"orderEditSetQuantity"`
		}
		if err := c.graphql(ctx, "set line quantity", qEditSetQuantity,
			map[string]any{"id": calc.ID, "lineItemId": n.ID, "quantity": target}, &out); err != nil {
			return err
		}
		if err := userErrorsErr("set line quantity", out.OrderEditSetQuantity.UserErrors); err != nil {
			return err
		}
		changed = true
	}
	for _, k := range order {
		if seen[k] {
			continue
		}
		w := desired[k]
		if w.variant != 0 {
			var out struct {
				OrderEditAddVariant struct {
					UserErrors []userError `json:"userErrors"`
				} `json:"orderEditAddVariant"`
			}
			if err := c.graphql(ctx, "add variant line", qEditAddVariant,
				map[string]any{"id": calc.ID, "variantId": gid("ProductVariant", w.variant), "quantity": w.qty}, &out); err != nil {
				return err
			}
			if err := userErrorsErr("add variant line", out.OrderEditAddVariant.UserErrors); err != nil {
				return err
			}
		} else {
			var out struct {
				OrderEditAddCustomItem struct {
					UserErrors []userError `json:"userErrors"`
				} `json:"orderEditAddCustomItem"`
			}
			price := map[string]any{"amount": formatMoney(w.line.UnitPrice.Amount, currency), "currencyCode": currency}
			if err := c.graphql(ctx, "add custom line", qEditAddCustomItem,
				map[string]any{"id": calc.ID, "title": w.line.Name, "price": price, "quantity": w.qty}, &out); err != nil {
				return err
			}
			if err := userErrorsErr("add custom line", out.OrderEditAddCustomItem.UserErrors); err != nil {
				return err
			}
		}
		changed = true
	}
	if !changed {
		return nil
	}
	var commit struct {
		OrderEditCommit struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"orderEditCommit"`
	}
	if err := c.graphql(ctx, "commit order edit", qEditCommit, map[string]any{"id": calc.ID}, &commit); err != nil {
		return err
	}
	return userErrorsErr("commit order edit", commit.OrderEditCommit.UserErrors)
}

// Package sandbox is the "Sandbox POS": a simulated point-of-sale system that posbridge serves
// itself under /sandbox/, and the connector that talks to it over HTTP like any remote POS.
//
// # Tenants
//
// Each sandbox tenant belongs to an account and has its own API key, minted by the server ("sbx_"
// and 40 hex digits, 160 random bits: POST /sandbox/admin/tenants with the account's posbridge API
// key, or adding a Sandbox POS integration without a key). A key the TenantAuthority does not know
// is refused (401) on every route and creates nothing. A tenant starts, on first use, with the same
// sample data every time (two stores, a bike workshop and bar catalogue with stock, eight customers
// and a dozen completed sales over the days before the tenant was created). An account has at most
// 20 tenants (422 tenant_limit), a tenant's saved state at most 32 MiB (422 sandbox_full), and a
// tenant unused for 10 minutes leaves memory (its state stays saved and is loaded again on its
// next use). Like a real POS it commits
// every change before answering it: the change goes to the tenant's log through a Persister
// (posbridge's writes it to its database, grouping concurrent changes into one commit), and the
// log is compacted into a snapshot of the whole state when it has grown as big. So an answered
// order survives a crash (kill -9) and its id is never handed out again.
//
// # API
//
// The connector API lives under /sandbox/api/v1/ with "Authorization: Bearer <api_key>": account,
// stores, products (cursor pagination, incremental reads, batch writes), stock, customers, orders
// (with Idempotency-Key), sales and webhook subscriptions. Errors are JSON
// {"error":{"code","message","field"}}. Admin routes under /sandbox/admin/ mint and delete tenants
// (POST and DELETE tenants, with the owning account's credentials), inject faults (POST/DELETE faults), list and complete orders, record sales and list
// webhook deliveries, and do what a merchant does in a POS's back office (triggers.go: save a
// product, import a product CSV, count, order, transfer and adjust stock; a sale takes from stock
// and a refund puts it back), each sending the webhooks a POS sends; they take the tenant's key
// (api_key), or the owning account's API key or console session with integration_id.
// A person sees an order at /sandbox/orders/{id}.
//
// # Webhook signing
//
// Webhooks are signed the way Stripe signs them. Each delivery is a POST of the JSON event
// {"id":"evt_...","type":"order.completed","created_at":...,"data":{"object":<order>}} with headers
//
//	Sandbox-Event-Id:  evt_...
//	Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//
// where secret is the one given when the webhook was subscribed (Options.WebhookSecret when none
// was). A receiver recomputes the HMAC over the exact raw body, compares it in constant time with
// every v1 value of the header, and refuses a timestamp more than 5 minutes from its clock
// (VerifySignature does all of this). Failed deliveries are retried a few times with backoff.
package sandbox

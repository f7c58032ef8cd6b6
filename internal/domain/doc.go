// Package domain is the language of posbridge: accounts and users, integrations and their
// status machine, timeline entries, webhook endpoints, the provider-neutral commerce types that
// connectors speak (stores, products, stock, customers, orders, sales, provider events) and the
// coded errors every adapter maps to its own protocol. It imports nothing of ours.
package domain

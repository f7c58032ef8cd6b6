// Package notify sends what leaves posbridge on its own: email over SMTP (Mailer, with errors
// that tell a permanent 5xx refusal from a temporary failure) and outbound webhooks to the
// business app signed per the Standard Webhooks spec (Sign, Verify, Deliver). Queuing, retry
// schedules and delivery logs belong to the callers; this package does one attempt.
package notify

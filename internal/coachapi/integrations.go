package coachapi

import (
	"errors"
	"net/http"

	"ringside/internal/audit"
	"ringside/internal/people"
	"ringside/internal/store"
	"ringside/internal/webhook"
)

// Bounds of the logs' pages.
const (
	defaultLogLimit = 100
	maxLogLimit     = 1000
)

// createWebhook answers POST /api/webhooks {url, events}: the response holds the signing
// secret, once.
func (a *api) createWebhook(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	if err := requireAdmin(p, "manage webhooks"); err != nil {
		return err
	}
	var req WebhookRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	hook, err := webhook.Subscribe(r.Context(), a.store, req.URL, req.Events, p.UserID, a.people.Now())
	if err != nil {
		return err
	}
	a.log.Info("webhook created", "webhook", hook.ID, "events", hook.Events, "by", p.UserID)
	writeJSON(w, http.StatusCreated, NewWebhook{Webhook: webhookFrom(hook), Secret: hook.Secret})
	return nil
}

// listWebhooks answers GET /api/webhooks.
func (a *api) listWebhooks(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	if err := requireAdmin(p, "manage webhooks"); err != nil {
		return err
	}
	list, err := a.store.ListWebhooks(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, WebhookList{Webhooks: convert(list, webhookFrom)})
	return nil
}

// deleteWebhook answers DELETE /api/webhooks/{id}.
func (a *api) deleteWebhook(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	if err := requireAdmin(p, "manage webhooks"); err != nil {
		return err
	}
	if err := a.store.DeleteWebhook(r.Context(), r.PathValue("id")); err != nil {
		return noSuch(err, "webhook")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listDeliveries answers GET /api/webhooks/{id}/deliveries?limit=N: the delivery log,
// newest first.
func (a *api) listDeliveries(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	if err := requireAdmin(p, "manage webhooks"); err != nil {
		return err
	}
	limit, err := queryLimit(r, defaultLogLimit, maxLogLimit)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := a.store.Webhook(r.Context(), id); err != nil {
		return noSuch(err, "webhook")
	}
	list, err := a.store.Deliveries(r.Context(), id, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, DeliveryList{Deliveries: convert(list, deliveryFrom)})
	return nil
}

// listAudit answers GET /api/audit?session=ID&before=T&limit=N: who monitored, whispered or
// joined openly, newest first.
func (a *api) listAudit(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	if err := requireAdmin(p, "read the audit log"); err != nil {
		return err
	}
	limit, err := queryLimit(r, defaultLogLimit, maxLogLimit)
	if err != nil {
		return err
	}
	before, err := queryTime(r, "before")
	if err != nil {
		return err
	}
	list, err := a.audit.Entries(r.Context(), store.AuditFilter{SessionID: r.URL.Query().Get("session"), Before: before, Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AuditList{Entries: convert(list, auditFrom)})
	return nil
}

// getDisclosure answers GET /api/audit/disclosure: the setting, for admins.
func (a *api) getDisclosure(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	if err := requireAdmin(p, "manage the disclosure setting"); err != nil {
		return err
	}
	d, err := a.audit.Disclosure(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// setDisclosure answers PUT /api/audit/disclosure {enabled, text}.
func (a *api) setDisclosure(w http.ResponseWriter, r *http.Request, p people.Principal) error {
	if err := requireAdmin(p, "manage the disclosure setting"); err != nil {
		return err
	}
	var req audit.Disclosure
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	d, err := a.audit.SetDisclosure(r.Context(), req)
	if err != nil {
		return err
	}
	a.log.Info("disclosure setting changed", "enabled", d.Enabled, "by", p.UserID)
	writeJSON(w, http.StatusOK, d)
	return nil
}

// noSuch turns a store ErrNotFound into a client-safe 404 about what.
func noSuch(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return people.Errorf(people.ErrNotFound, "no %s with this id", what)
	}
	return err
}

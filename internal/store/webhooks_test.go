package store

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func TestWebhooksAndDeliveries(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		w := Webhook{ID: "wh", URL: "http://127.0.0.1:1/hook", Secret: "s3cret", Events: []string{"session.ended", "feedback.posted"}, CreatedAt: at}
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateWebhook(ctx, Webhook{URL: "http://x", Events: []string{"a,b"}}); err == nil {
			t.Fatal("an event type with a comma was stored")
		}
		if err := s.CreateWebhook(ctx, Webhook{ID: "wh2", URL: "http://y", Events: []string{"session.ended"}, CreatedAt: at.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Webhook(ctx, "wh")
		w.CreatedAt = ms(at)
		mustEqual(t, "Webhook", got, w)
		if err != nil {
			t.Fatal(err)
		}
		for event, want := range map[string]int{"session.ended": 2, "feedback.posted": 1, "session.started": 0} {
			if subs, err := s.WebhooksFor(ctx, event); err != nil || len(subs) != want {
				t.Errorf("WebhooksFor(%s) = %d, %v; want %d", event, len(subs), err, want)
			}
		}

		d := Delivery{ID: "d1", WebhookID: "wh", EventID: "ev1", Event: "session.ended", Payload: `{"a":1}`, CreatedAt: at}
		if err := s.AddDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "delivery to unknown webhook", s.AddDelivery(ctx, Delivery{WebhookID: "nope", EventID: "e", Event: "x"}), ErrNotFound)
		delivered := at.Add(time.Second)
		d.Status, d.Attempts, d.LastCode, d.UpdatedAt, d.DeliveredAt = DeliveryDelivered, 2, 200, delivered, &delivered
		if err := s.UpdateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "update unknown", s.UpdateDelivery(ctx, Delivery{ID: "nope", Status: DeliveryFailed}), ErrNotFound)
		if err := s.AddDelivery(ctx, Delivery{ID: "d2", WebhookID: "wh", EventID: "ev2", Event: "feedback.posted", CreatedAt: at.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		list, err := s.Deliveries(ctx, "wh", 0)
		if err != nil || len(list) != 2 || list[0].ID != "d2" || list[0].Status != DeliveryPending {
			t.Fatalf("Deliveries = %+v, %v", list, err)
		}
		want := d
		want.CreatedAt, want.UpdatedAt, want.DeliveredAt = ms(at), ms(delivered), msp(&delivered)
		mustEqual(t, "delivered", list[1], want)
		if one, _ := s.Deliveries(ctx, "wh", 1); len(one) != 1 {
			t.Fatalf("limit 1: %d", len(one))
		}

		if err := s.DeleteWebhook(ctx, "wh"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "delete twice", s.DeleteWebhook(ctx, "wh"), ErrNotFound)
		if list, _ := s.Deliveries(ctx, "wh", 0); len(list) != 0 {
			t.Fatalf("deliveries outlived their webhook: %+v", list)
		}
	})
}

// TestDeliveryClaimsAndResumption: what a restarted server reads (the pending deliveries with
// their webhooks) and the conditional updates that keep two servers from sending one attempt
// twice or failing a delivery another one finished.
func TestDeliveryClaimsAndResumption(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		at := testTime(t, 0)
		if err := s.CreateWebhook(ctx, Webhook{ID: "wh", URL: "http://127.0.0.1:1/hook", Secret: "s3cret", Events: []string{"session.ended"}, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		for i, d := range []Delivery{
			{ID: "queued", CreatedAt: at},
			{ID: "retrying", Attempts: 2, LastCode: 503, LastError: "HTTP 503", CreatedAt: at.Add(time.Second), UpdatedAt: at.Add(5 * time.Second)},
			{ID: "delivered", Status: DeliveryDelivered, Attempts: 1, CreatedAt: at.Add(2 * time.Second)},
			{ID: "failed", Status: DeliveryFailed, Attempts: 6, CreatedAt: at.Add(3 * time.Second)},
			{ID: "later", CreatedAt: at.Add(time.Hour)},
		} {
			d.WebhookID, d.EventID, d.Event, d.Payload = "wh", "ev"+strconv.Itoa(i), "session.ended", `{"i":`+strconv.Itoa(i)+`}`
			if err := s.AddDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.PendingDeliveries(ctx, at.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != "queued" || list[1].ID != "retrying" {
			t.Fatalf("PendingDeliveries = %+v; want queued then retrying (not the done ones, nor one created later)", list)
		}
		r := list[1]
		if r.URL != "http://127.0.0.1:1/hook" || r.Secret != "s3cret" || r.Attempts != 2 || r.LastCode != 503 ||
			!r.UpdatedAt.Equal(ms(at.Add(5*time.Second))) || r.Payload != `{"i":1}` {
			t.Fatalf("pending delivery = %+v", r)
		}

		// One claim per attempt: the second server's claim of the same attempt fails.
		claim := at.Add(time.Minute)
		if ok, err := s.ClaimDeliveryAttempt(ctx, "retrying", 2, claim); !ok || err != nil {
			t.Fatalf("first claim: %v, %v", ok, err)
		}
		if ok, err := s.ClaimDeliveryAttempt(ctx, "retrying", 2, claim); ok || err != nil {
			t.Fatalf("second claim of the same attempt: %v, %v", ok, err)
		}
		for _, id := range []string{"delivered", "nope"} {
			if ok, err := s.ClaimDeliveryAttempt(ctx, id, 1, claim); ok || err != nil {
				t.Fatalf("claim of %s: %v, %v", id, ok, err)
			}
		}
		list, _ = s.PendingDeliveries(ctx, at.Add(time.Minute))
		if got := list[1]; got.Attempts != 3 || !got.UpdatedAt.Equal(ms(claim)) {
			t.Fatalf("after the claim: %+v; want 3 attempts, updated at the claim", got)
		}

		// Abandoning changes nothing once the delivery moved on.
		stale := list[1].Delivery
		stale.Attempts = 2
		if ok, err := s.AbandonDelivery(ctx, stale, "gone", claim); ok || err != nil {
			t.Fatalf("abandon a stale copy: %v, %v", ok, err)
		}
		if ok, err := s.AbandonDelivery(ctx, list[1].Delivery, "the server stopped", claim.Add(time.Second)); !ok || err != nil {
			t.Fatalf("abandon: %v, %v", ok, err)
		}
		all, _ := s.Deliveries(ctx, "wh", 0)
		for _, d := range all {
			if d.ID == "retrying" && (d.Status != DeliveryFailed || d.LastError != "the server stopped" || d.Attempts != 3) {
				t.Fatalf("abandoned: %+v", d)
			}
		}
	})
}

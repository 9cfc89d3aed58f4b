package store

import (
	"context"
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

//! The queue module against the real SQS-compatible server (`make test`
//! starts it on 127.0.0.1:9324; `AWS_ENDPOINT_URL` may point elsewhere).

use ocpizza::platform::config::{lookup_from, var, Config};
use ocpizza::platform::ids::{OrderId, PizzeriaId};
use ocpizza::platform::queue::{self, Envelope, Event, QueueName, Queues};
use std::time::Duration;

async fn fresh_queues() -> Queues {
    let endpoint =
        std::env::var(var::AWS_ENDPOINT_URL).unwrap_or_else(|_| "http://127.0.0.1:9324".into());
    let config =
        Config::from_lookup(&[], lookup_from(&[(var::AWS_ENDPOINT_URL, &endpoint)])).unwrap();
    let base = Queues::from_config(&config).await;
    // Queues of our own, so parallel tests never read each other's messages.
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let kitchen =
        queue::create_with_dead_letter_queue(base.client(), &format!("test-kitchen-{suffix}"))
            .await
            .expect("the SQS server is reachable (make test starts it)");
    let delivery =
        queue::create_with_dead_letter_queue(base.client(), &format!("test-delivery-{suffix}"))
            .await
            .unwrap();
    Queues::new(base.client().clone(), kitchen, delivery)
}

#[tokio::test]
async fn send_receive_delete_through_the_real_server() {
    let queues = fresh_queues().await;
    let placed = Envelope::new(
        OrderId(7),
        Event::OrderPlaced {
            pizzeria_id: PizzeriaId(1),
        },
    );
    let ready = Envelope::new(
        OrderId(7),
        Event::OrderReady {
            pizzeria_id: PizzeriaId(1),
        },
    );
    queues.send(&placed).await.unwrap();
    queues.send(&ready).await.unwrap();

    // Each event arrives on its own queue, intact.
    let kitchen = queues
        .receive(QueueName::Kitchen, 10, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(kitchen.len(), 1);
    assert_eq!(Envelope::parse(&kitchen[0].body).unwrap(), placed);
    assert_eq!(kitchen[0].receive_count, 1);
    let delivery = queues
        .receive(QueueName::Delivery, 10, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(delivery.len(), 1);
    assert_eq!(Envelope::parse(&delivery[0].body).unwrap(), ready);

    // Deleted messages do not come back.
    queues
        .delete(QueueName::Kitchen, &[&kitchen[0].receipt_handle])
        .await
        .unwrap();
    let client = queues.client();
    client
        .change_message_visibility()
        .queue_url(queues.url(QueueName::Delivery))
        .receipt_handle(&delivery[0].receipt_handle)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    assert!(queues
        .receive(QueueName::Kitchen, 10, Duration::from_secs(1))
        .await
        .unwrap()
        .is_empty());
    // An undeleted one does, once visible again, with its receive count.
    let again = queues
        .receive(QueueName::Delivery, 10, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].receive_count, 2);
}

#[tokio::test]
async fn batches_of_ten() {
    let queues = fresh_queues().await;
    let bodies: Vec<String> = (1..=10)
        .map(|i| {
            Envelope::new(
                OrderId(i),
                Event::OrderPlaced {
                    pizzeria_id: PizzeriaId(2),
                },
            )
            .to_json()
        })
        .collect();
    let sent = queues
        .send_batch(QueueName::Kitchen, &bodies)
        .await
        .unwrap();
    assert_eq!(sent.len(), 10);
    let mut orders = Vec::new();
    while orders.len() < 10 {
        let batch = queues
            .receive(QueueName::Kitchen, 10, Duration::from_secs(2))
            .await
            .unwrap();
        assert!(!batch.is_empty(), "messages missing: got {orders:?}");
        let handles: Vec<&str> = batch.iter().map(|m| m.receipt_handle.as_str()).collect();
        queues.delete(QueueName::Kitchen, &handles).await.unwrap();
        orders.extend(
            batch
                .iter()
                .map(|m| Envelope::parse(&m.body).unwrap().order_id.0),
        );
    }
    orders.sort();
    assert_eq!(orders, (1..=10).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_poison_message_moves_to_the_dead_letter_queue_after_five_receives() {
    let queues = fresh_queues().await;
    let url = queues.url(QueueName::Kitchen).to_owned();
    queues
        .client()
        .send_message()
        .queue_url(&url)
        .message_body("not an envelope")
        .send()
        .await
        .unwrap();
    for receive in 1..=queue::MAX_RECEIVES {
        let batch = queues
            .receive(QueueName::Kitchen, 1, Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(batch.len(), 1, "receive {receive}");
        assert!(Envelope::parse(&batch[0].body).is_err());
        // A consumer reports it failed: it becomes visible again at once.
        queues
            .client()
            .change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&batch[0].receipt_handle)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
    }
    assert!(queues
        .receive(QueueName::Kitchen, 1, Duration::from_secs(1))
        .await
        .unwrap()
        .is_empty());
    let dlq = format!("{url}-dlq");
    let dead = queues
        .client()
        .receive_message()
        .queue_url(&dlq)
        .send()
        .await
        .unwrap();
    assert_eq!(dead.messages().len(), 1);
    assert_eq!(dead.messages()[0].body(), Some("not an envelope"));
}

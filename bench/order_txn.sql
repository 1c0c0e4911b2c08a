-- pgbench's ceiling for `place-order`: the SQL one POST /orders runs, without
-- the web stack. 1-3 lines per order, as the wrk script sends. Stock is large
-- enough that no line fails, and each line's stock change and order_item row
-- are written together, so the stock invariant holds for these orders too.
\set uid random(1, 1000)
\set lines random(1, 3)
\set p1 random(1, 3333)
\set p2 random(3334, 6666)
\set p3 random(6667, 10000)
\set q1 random(1, 3)
\set q2 random(1, 3)
\set q3 random(1, 3)
\set p2 case when :lines >= 2 then :p2 else :p1 end
\set p3 case when :lines >= 3 then :p3 else :p1 end
BEGIN;
-- The access-token check every authenticated request makes.
SELECT u.* FROM user_account u
 WHERE u.id = :uid AND u.is_active AND u.token_version = 0
   AND EXISTS (SELECT 1 FROM auth_session s WHERE s.user_id = u.id
               AND s.revoked_at IS NULL AND s.expires_at > now());
-- Lock the ordered products in id order (no deadlocks), read price and stock.
SELECT id, sku, name, price_cents, stock, is_active FROM product
 WHERE id IN (:p1, :p2, :p3) ORDER BY id FOR UPDATE;
INSERT INTO customer_order (user_id, status, total_cents, currency, created_at, updated_at)
 VALUES (:uid, 'pending', 0, 'USD', now(), now());
UPDATE product SET stock = stock - :q1, updated_at = now() WHERE id = :p1;
INSERT INTO order_item (order_id, product_id, sku, name, quantity, unit_price_cents, line_total_cents)
 SELECT currval('customer_order_id_seq'), id, sku, name, :q1, price_cents, price_cents * :q1
   FROM product WHERE id = :p1;
\if :lines >= 2
UPDATE product SET stock = stock - :q2, updated_at = now() WHERE id = :p2;
INSERT INTO order_item (order_id, product_id, sku, name, quantity, unit_price_cents, line_total_cents)
 SELECT currval('customer_order_id_seq'), id, sku, name, :q2, price_cents, price_cents * :q2
   FROM product WHERE id = :p2;
\endif
\if :lines >= 3
UPDATE product SET stock = stock - :q3, updated_at = now() WHERE id = :p3;
INSERT INTO order_item (order_id, product_id, sku, name, quantity, unit_price_cents, line_total_cents)
 SELECT currval('customer_order_id_seq'), id, sku, name, :q3, price_cents, price_cents * :q3
   FROM product WHERE id = :p3;
\endif
UPDATE customer_order SET total_cents = 1000 WHERE id = currval('customer_order_id_seq');
-- Event ids become visible in commit order: the writer lock, then the event.
SELECT pg_advisory_xact_lock(1869767781);
INSERT INTO order_event (type, order_id, user_id, status, previous_status, order_snapshot, occurred_at)
 VALUES ('order.created', currval('customer_order_id_seq'), :uid, 'pending', NULL,
         '{"items": [], "status": "pending", "total_cents": 1000}'::jsonb, now());
SELECT pg_notify('order_events', currval('order_event_id_seq')::text);
COMMIT;

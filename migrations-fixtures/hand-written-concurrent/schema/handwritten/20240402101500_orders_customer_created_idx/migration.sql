-- "Order" is large and hot: build the index without blocking writes (must be alone in its migration).
CREATE INDEX CONCURRENTLY "Order_customerId_createdAt_idx" ON "Order"("customerId", "createdAt");

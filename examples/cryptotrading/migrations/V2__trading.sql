-- Trades, portfolios and market data.
CREATE TABLE trades (
    id          integer PRIMARY KEY,
    user_id     integer NOT NULL REFERENCES users (id),
    symbol      text NOT NULL,
    side        text NOT NULL,
    price       numeric(20, 8) NOT NULL,
    quantity    numeric(20, 8) NOT NULL,
    status      text NOT NULL DEFAULT 'pending',
    executed_at timestamptz
);
CREATE TABLE portfolios (
    id         integer PRIMARY KEY,
    user_id    integer NOT NULL REFERENCES users (id),
    symbol     text NOT NULL,
    quantity   numeric(20, 8) NOT NULL DEFAULT 0,
    avg_price  numeric(20, 8),
    updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE market_data (
    id        integer PRIMARY KEY,
    symbol    text NOT NULL,
    price     numeric(20, 8) NOT NULL,
    volume    numeric(28, 8),
    timestamp timestamptz NOT NULL
);

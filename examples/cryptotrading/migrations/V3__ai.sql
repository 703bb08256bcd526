-- AI analyses and the trading signals derived from them.
CREATE TABLE ai_analyses (
    id         integer PRIMARY KEY,
    symbol     text NOT NULL,
    model      text NOT NULL,
    analysis   jsonb NOT NULL,
    confidence numeric(5, 4),
    created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE trading_signals (
    id          integer PRIMARY KEY,
    symbol      text NOT NULL,
    signal      text NOT NULL,
    strength    numeric(5, 4),
    analysis_id integer REFERENCES ai_analyses (id),
    created_at  timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);

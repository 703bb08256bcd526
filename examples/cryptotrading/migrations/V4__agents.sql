-- Conversations and agent-to-agent (A2A) registrations.
CREATE TABLE conversation_messages (
    id         integer PRIMARY KEY,
    session_id text NOT NULL,
    role       text NOT NULL,
    content    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE a2a_agents (
    id           integer PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    endpoint     text NOT NULL,
    capabilities jsonb,
    status       text NOT NULL DEFAULT 'active',
    created_at   timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);

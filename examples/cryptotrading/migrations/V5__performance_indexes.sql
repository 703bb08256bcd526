-- The seed's performance indexes.
CREATE INDEX idx_trades_user_id ON trades (user_id);
CREATE INDEX idx_portfolios_user_symbol ON portfolios (user_id, symbol);
CREATE INDEX idx_trades_executed_at ON trades (executed_at);
CREATE INDEX idx_market_data_symbol_timestamp ON market_data (symbol, timestamp);
CREATE INDEX idx_ai_analyses_symbol_created ON ai_analyses (symbol, created_at);
CREATE INDEX idx_trading_signals_symbol_created ON trading_signals (symbol, created_at);
CREATE INDEX idx_conversation_messages_session_created ON conversation_messages (session_id, created_at);
CREATE INDEX idx_trades_status ON trades (status);
CREATE INDEX idx_a2a_agents_status ON a2a_agents (status);

DROP TABLE trading_signals;
DROP TABLE ai_analyses;

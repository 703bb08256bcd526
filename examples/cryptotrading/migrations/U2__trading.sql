DROP TABLE market_data;
DROP TABLE portfolios;
DROP TABLE trades;

DROP TABLE a2a_agents;
DROP TABLE conversation_messages;

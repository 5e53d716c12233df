-- PTB persistence: where each person is in a dialog, and the small dicts PTB keeps per user,
-- per chat and per bot. Every value is JSON text (never pickle), written at the end of each update.
CREATE TABLE conversations (
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (name, key)
);

CREATE TABLE user_data (
    user_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL
);

CREATE TABLE chat_data (
    chat_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL
);

-- Single-row tables: the CHECK keeps them that way.
CREATE TABLE bot_data (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    data TEXT NOT NULL
);

CREATE TABLE callback_data (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    data TEXT NOT NULL
);

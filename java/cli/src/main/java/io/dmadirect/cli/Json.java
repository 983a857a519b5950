package io.dmadirect.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

/** The {@code --json} output of every command: pretty, nulls kept, so a field's absence is never ambiguous. */
final class Json {
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();

    private Json() {
    }

    static String of(Object value) {
        return GSON.toJson(value);
    }
}

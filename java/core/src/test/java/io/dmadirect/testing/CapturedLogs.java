package io.dmadirect.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * What the library logged while an action ran. The JDK's System.Logger goes to java.util.logging when
 * nothing else is installed, so a handler on the logger's name sees every record of that name and below.
 */
public final class CapturedLogs {
    private CapturedLogs() {
    }

    /** The records of {@code loggerName} at {@code atLeast} or above that {@code action} produced. */
    public static List<LogRecord> capture(String loggerName, Level atLeast, Runnable action) {
        Logger logger = Logger.getLogger(loggerName);
        List<LogRecord> records = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= atLeast.intValue()) {
                    records.add(record);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
        try {
            action.run();
        } finally {
            logger.removeHandler(handler);
        }
        return records;
    }
}

/**
 * Constants of the C headers the mechanism layer calls through, one class per header, with the C
 * names, so a reader can hold a man page beside the call. Values are those of Linux on x86_64 and
 * arm64 (the generic ABI), which dmadirect supports.
 */
package io.dmadirect.linux.headers;

/**
 * The examples of {@code docs/guide.md}. Each block of the guide is a region of one of these files,
 * between {@code // region:NAME} and {@code // endregion:NAME}; {@code GuideSnippetsTest} fails when the
 * guide and the region differ, and {@code GuideExamplesTest} runs the examples that need no hardware.
 */
package io.dmadirect.examples;

/**
 * Real text for the worked examples: loaders for the Brown corpus (form C), strfile fortunes, Yelp
 * review JSON lines and PG-19 book files; a tokenizer; hashed and vocabulary bag-of-words features;
 * the options and JSON output shared by the example programs.
 */
package io.posteriors.examples.text;

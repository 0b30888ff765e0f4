"""The library query: one page of the library table, filtered, sorted, with chosen columns; the
library's distributions (the Charts screen) and the starter rule sets drawn from them."""

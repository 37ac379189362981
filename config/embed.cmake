# cmake -DIN=<file> -DOUT=<file.inc> -P embed.cmake
# Writes the bytes of IN as a comma-separated list of hex literals, to be #included
# inside a C array initialiser (config.c appends the terminating NUL).
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n"
       body "${body}")
file(WRITE "${OUT}.tmp" "/* Generated from ${IN} by config/embed.cmake; do not edit. */\n${body}\n")
file(RENAME "${OUT}.tmp" "${OUT}")

# Turns IN (a text file) into OUT, a C file defining
#   const char cs_schema_sql[];  (the text, NUL-terminated)
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "/* generated from schema.sql by embed.cmake; do not edit */\n"
     "const char cs_schema_sql[] = {\n${bytes}0x00};\n")

# lua2c.awk: src/redis_window.lua as a C string (redis_conn.h:
# redis_window_script), sent to Redis whole by SCRIPT LOAD.
#   awk -f src/lua2c.awk src/redis_window.lua > B/redis_script.c
BEGIN {
	print "/* Generated from src/redis_window.lua by src/lua2c.awk: do not edit. */"
	print "const char redis_window_script[] ="
}
{
	gsub(/\\/, "\\\\")
	gsub(/"/, "\\\"")
	gsub(/\t/, "\\t")
	print "\t\"" $0 "\\n\""
}
END { print "\t;" }

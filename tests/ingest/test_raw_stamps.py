"""Raw lines: the time an application's log line starts with (`formats.stamps`).

The lines quoted are real: Apache httpd, Hadoop, ZooKeeper and Spark lines of Loghub's
samples (../shared/data/loghub_2k), and the shapes nginx, Go's `log`, PostgreSQL,
gunicorn, Elasticsearch, MySQL, java.util.logging and Squid document for their logs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from logvigil.cli import app
from logvigil.core.events import LogEvent, Rejected, Severity
from logvigil.ingest.formats import ReadOptions, detect_format, read_events
from logvigil.ingest.formats._common import UNTIMED
from logvigil.ingest.formats.stamps import leading_stamp
from logvigil.ingest.noise import NoiseAction, NoiseConfig, NoiseFilter

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
OPTIONS = ReadOptions(source="app.log", default_time=NOW)
LOGHUB = Path(__file__).resolve().parents[3] / "shared" / "data" / "loghub_2k"


def read(*lines: str, options: ReadOptions = OPTIONS) -> list[Any]:
    return list(read_events([line.encode() for line in lines], "raw", options))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "ts", "message", "severity"),
    [
        # Apache httpd 2.2's error log (ctime in brackets), Loghub's Apache sample
        ("[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
         utc(2005, 12, 4, 4, 47, 44), "[error] mod_jk child workerEnv in error state 6",
         Severity.ERROR),
        # Apache httpd 2.4: microseconds, and a day padded with a blank
        ("[Wed Oct  1 14:32:52.123456 2025] [core:error] [pid 35708] AH00037: Symbolic link",
         utc(2025, 10, 1, 14, 32, 52, 123456), "[core:error] [pid 35708] AH00037: Symbolic link",
         Severity.ERROR),
        # `dmesg -T` (util-linux): the kernel's ring buffer with ctime stamps
        ("[Tue Nov 24 11:00:00 2026] Out of memory: Killed process 2171 (postgres) "
         "total-vm:4152928kB, anon-rss:2048116kB, file-rss:0kB, shmem-rss:0kB",
         utc(2026, 11, 24, 11), "Out of memory: Killed process 2171 (postgres) "
         "total-vm:4152928kB, anon-rss:2048116kB, file-rss:0kB, shmem-rss:0kB", Severity.INFO),
        # log4j's ISO8601 pattern with a comma (Hadoop), Loghub's Hadoop sample
        ("2015-10-18 18:06:26,029 FATAL [IPC Server handler 13 on 62270] "
         "org.apache.hadoop.mapred.TaskAttemptListenerImpl: Task: attempt_1 - exited",
         utc(2015, 10, 18, 18, 6, 26, 29000),
         "FATAL [IPC Server handler 13 on 62270] "
         "org.apache.hadoop.mapred.TaskAttemptListenerImpl: Task: attempt_1 - exited",
         Severity.CRITICAL),
        # ZooKeeper's log4j layout, Loghub's ZooKeeper sample
        ("2015-07-29 19:04:12,394 - INFO  [/10.10.34.11:3888:QuorumCnxManager$Listener@493] "
         "- Received connection request /10.10.34.11:45307",
         utc(2015, 7, 29, 19, 4, 12, 394000),
         "- INFO  [/10.10.34.11:3888:QuorumCnxManager$Listener@493] "
         "- Received connection request /10.10.34.11:45307",
         Severity.INFO),
        # Spark's default log4j pattern `%d{yy/MM/dd HH:mm:ss}`, Loghub's Spark sample
        ("17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi",
         utc(2017, 6, 9, 20, 10, 40), "INFO spark.SecurityManager: Changing view acls to: yarn,curi",
         Severity.INFO),
        # nginx's error log and Go's `log` package: yyyy/MM/dd
        ('2026/03/04 10:00:00 [error] 812#812: *1 open() "/srv/x" failed (2: No such file)',
         utc(2026, 3, 4, 10), '[error] 812#812: *1 open() "/srv/x" failed (2: No such file)',
         Severity.ERROR),
        ("2026/03/04 10:00:00.123456 listening on :8080",
         utc(2026, 3, 4, 10, 0, 0, 123456), "listening on :8080", Severity.INFO),
        # PostgreSQL's `%m`: milliseconds and the zone's abbreviation
        ("2026-03-04 10:00:00.123 UTC [812] LOG:  database system is ready to accept connections",
         utc(2026, 3, 4, 10, 0, 0, 123000),
         "[812] LOG:  database system is ready to accept connections", Severity.INFO),
        # gunicorn: in brackets, an offset after a blank
        ("[2026-03-04 11:00:00 +0100] [1] [ERROR] Worker (pid:7) was sent SIGKILL!",
         utc(2026, 3, 4, 10), "[1] [ERROR] Worker (pid:7) was sent SIGKILL!", Severity.ERROR),
        # Elasticsearch: brackets followed at once by the level's
        ("[2026-03-04T10:00:00,123][WARN ][o.e.c.r.a.DiskThresholdMonitor] high disk watermark",
         utc(2026, 3, 4, 10, 0, 0, 123000),
         "[WARN ][o.e.c.r.a.DiskThresholdMonitor] high disk watermark", Severity.WARNING),
        # MySQL 8's error log: RFC 3339 with microseconds and Z; offsets of every spelling
        ("2026-03-04T10:00:00.123456Z 0 [ERROR] [MY-010119] [Server] Aborting",
         utc(2026, 3, 4, 10, 0, 0, 123456), "0 [ERROR] [MY-010119] [Server] Aborting",
         Severity.ERROR),
        ("2026-03-04T12:00:00+02:00 up", utc(2026, 3, 4, 10), "up", Severity.INFO),
        ("2026-03-04T05:30:00-0430 up", utc(2026, 3, 4, 10), "up", Severity.INFO),
        ("2026-03-04T12:00:00+02 up", utc(2026, 3, 4, 10), "up", Severity.INFO),
        # Windows' CBS.log: a comma after the stamp (Loghub's Windows set)
        ("2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505",
         utc(2016, 9, 28, 4, 30, 30),
         "Info                  CBS    Loaded Servicing Stack v6.1.7601.23505", Severity.INFO),
        # Redis 3.0 on (server.c, serverLogRaw): pid:role, the stamp, the level's mark
        ("1:M 04 Mar 2026 10:00:00.123 * Ready to accept connections tcp",
         utc(2026, 3, 4, 10, 0, 0, 123000), "Ready to accept connections tcp", Severity.NOTICE),
        ("4711:C 04 Mar 2026 10:00:01.456 # Can't save in background: fork: Cannot allocate memory",
         utc(2026, 3, 4, 10, 0, 1, 456000),
         "Can't save in background: fork: Cannot allocate memory", Severity.WARNING),
        # Android's `logcat -v threadtime` (Loghub's Android set): year-less, as klog's
        ("03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogsopening app",
         utc(2026, 3, 17, 16, 13, 38, 811000), "WindowManager: printFreezingDisplayLogsopening app",
         Severity.DEBUG),
        ("03-17 16:13:39.000  1702  1820 E AndroidRuntime: Process: com.example, PID: 1702",
         utc(2026, 3, 17, 16, 13, 39), "AndroidRuntime: Process: com.example, PID: 1702",
         Severity.ERROR),
        # klog / glog's header `Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg`: the letter
        # is the level, the year that of the reading (NOW: 2026-11-30)
        ("E1121 10:00:00.123456    4711 reflector.go:138] failed to list *v1.Pod: "
         "connection refused", utc(2026, 11, 21, 10, 0, 0, 123456),
         "4711 reflector.go:138] failed to list *v1.Pod: connection refused", Severity.ERROR),
        ("W0115 08:00:00.000001       1 controller.go:42] slow sync",
         utc(2026, 1, 15, 8, 0, 0, 1), "1 controller.go:42] slow sync", Severity.WARNING),
        ("F1130 11:59:00.000000       1 main.go:7] cannot bind :10250",
         utc(2026, 11, 30, 11, 59), "1 main.go:7] cannot bind :10250", Severity.CRITICAL),
        # MySQL 5.5's and 5.6's error log (sql/log.cc, InnoDB's ut_print_timestamp, the
        # fatal-signal handler, mysqld_safe): yymmdd and a blank-padded local hour
        ("130314  9:48:02 [Note] Plugin 'FEDERATED' is disabled.",
         utc(2013, 3, 14, 9, 48, 2), "[Note] Plugin 'FEDERATED' is disabled.", Severity.INFO),
        ("130314  9:48:03 [ERROR] /usr/sbin/mysqld: Can't find file: './mysql/host.frm' (errno: 13)",
         utc(2013, 3, 14, 9, 48, 3),
         "[ERROR] /usr/sbin/mysqld: Can't find file: './mysql/host.frm' (errno: 13)", Severity.ERROR),
        ("130314  9:48:02  InnoDB: Initializing buffer pool, size = 128.0M",
         utc(2013, 3, 14, 9, 48, 2), "InnoDB: Initializing buffer pool, size = 128.0M",
         Severity.INFO),
        ("150702 09:41:44 mysqld_safe Starting mysqld daemon with databases from /var/lib/mysql",
         utc(2015, 7, 2, 9, 41, 44),
         "mysqld_safe Starting mysqld daemon with databases from /var/lib/mysql", Severity.INFO),
        # the general query log: a tab after the stamp
        ("150702 10:00:00\t    3 Connect\troot@localhost on ", utc(2015, 7, 2, 10),
         "3 Connect\troot@localhost on", Severity.INFO),
        # PHP's error log: d-M-Y H:i:s and the zone's IANA name (php_log_err); php-fpm's
        # own log without one (local); Tomcat's catalina log (OneLineFormatter)
        ("[04-Mar-2026 10:00:00 UTC] PHP Fatal error:  Uncaught Error: Call to undefined "
         "function mysql_connect() in /var/www/html/index.php:3", utc(2026, 3, 4, 10),
         "PHP Fatal error:  Uncaught Error: Call to undefined function mysql_connect() in "
         "/var/www/html/index.php:3", Severity.ERROR),
        ("[04-Mar-2026 10:00:00 Europe/Berlin] PHP Warning:  Undefined variable $x in "
         "/var/www/html/a.php on line 3", utc(2026, 3, 4, 9),
         "PHP Warning:  Undefined variable $x in /var/www/html/a.php on line 3", Severity.WARNING),
        ("[04-Mar-2026 10:00:00] NOTICE: fpm is running, pid 1234", utc(2026, 3, 4, 10),
         "NOTICE: fpm is running, pid 1234", Severity.INFO),
        ("04-Mar-2026 10:00:01.456 SEVERE [main] org.apache.catalina.core.StandardContext."
         "startInternal One or more listeners failed to start.", utc(2026, 3, 4, 10, 0, 1, 456000),
         "SEVERE [main] org.apache.catalina.core.StandardContext.startInternal One or more "
         "listeners failed to start.", Severity.ERROR),
        # Apache httpd's documentation of the common log format
        ('127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
         utc(2000, 10, 10, 20, 55, 36), '127.0.0.1 - frank "GET /apache_pb.gif HTTP/1.0" 200 2326',
         Severity.INFO),
        # nginx's `combined`: a 502 from a dead upstream is the server failing the request
        ('192.168.1.5 - - [04/Mar/2026:10:00:01 +0000] "POST /api/v1/orders HTTP/1.1" 502 157 '
         '"-" "curl/8.5.0"', utc(2026, 3, 4, 10, 0, 1),
         '192.168.1.5 - - "POST /api/v1/orders HTTP/1.1" 502 157 "-" "curl/8.5.0"',
         Severity.ERROR),
        # a client's 404 is no server failure; an escaped quote inside the request
        ('2001:db8::7 - - [04/Mar/2026:11:00:02 +0100] "GET /a\\"b HTTP/1.1" 404 0 "-" "-"',
         utc(2026, 3, 4, 10, 0, 2), '2001:db8::7 - - "GET /a\\"b HTTP/1.1" 404 0 "-" "-"',
         Severity.INFO),
        # a request nginx could not read: "-" and 400
        ('203.0.113.9 - - [04/Mar/2026:10:00:03 +0000] "-" 400 0 "-" "-"',
         utc(2026, 3, 4, 10, 0, 3), '203.0.113.9 - - "-" 400 0 "-" "-"', Severity.INFO),
        # java.util.logging's SimpleFormatter (Java 7 on): a record's first line; the
        # hour 1 to 12 unpadded, 12 AM is midnight; Java 6's unpadded day
        ("Mar 04, 2026 1:05:09 PM org.apache.catalina.startup.Catalina start",
         utc(2026, 3, 4, 13, 5, 9), "org.apache.catalina.startup.Catalina start", Severity.INFO),
        ("Mar 04, 2026 12:00:01 AM org.apache.catalina.core.StandardServer await",
         utc(2026, 3, 4, 0, 0, 1), "org.apache.catalina.core.StandardServer await", Severity.INFO),
        ("Dec 4, 2009 12:30:00 PM hudson.WebAppMain$3 run", utc(2009, 12, 4, 12, 30),
         "hudson.WebAppMain$3 run", Severity.INFO),
        # Plex Media Server's log: a 24-hour clock with milliseconds, the level after
        # the thread
        ("Jan 05, 2021 12:22:41.452 [0x7f6f5d7fa700] ERROR - Failed to open database",
         utc(2021, 1, 5, 12, 22, 41, 452000), "[0x7f6f5d7fa700] ERROR - Failed to open database",
         Severity.ERROR),
        # Jellyfin (Serilog: `[{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz}] [{Level:u3}]`) and
        # Sonarr (NLog: `longdate|level|logger|message`)
        ("[2026-03-04 10:00:00.123 +01:00] [WRN] [12] Jellyfin.Server: slow query 512 ms",
         utc(2026, 3, 4, 9, 0, 0, 123000), "[WRN] [12] Jellyfin.Server: slow query 512 ms",
         Severity.WARNING),
        ("2026-03-04 10:00:00.1|Error|DownloadedEpisodesImportService|Import failed",
         utc(2026, 3, 4, 10, 0, 0, 100000), "|Error|DownloadedEpisodesImportService|Import failed",
         Severity.ERROR),
        # Squid's native access.log (its documentation's example): seconds since the epoch
        ("1286536309.450    345 192.168.0.68 TCP_MISS/200 507 POST http://rcv.xl.example/ - "
         "DIRECT/1.2.3.4 application/xml", utc(2010, 10, 8, 11, 11, 49, 450000),
         "345 192.168.0.68 TCP_MISS/200 507 POST http://rcv.xl.example/ - DIRECT/1.2.3.4 "
         "application/xml", Severity.INFO),
        # MariaDB 10.11's error log (10.1.2 on: the hour padded with a blank, the thread id
        # and the level after the stamp), real lines of a Debian 12 server
        ("2026-12-02  6:44:52 3 [Warning] Aborted connection 3 to db: 'unconnected' user: "
         "'unauthenticated' host: '127.0.0.1' (This connection closed normally without "
         "authentication)", utc(2026, 12, 2, 6, 44, 52), "3 [Warning] Aborted connection 3 "
         "to db: 'unconnected' user: 'unauthenticated' host: '127.0.0.1' (This connection "
         "closed normally without authentication)", Severity.WARNING),
        ("2026-12-02 16:44:51 0 [Note] InnoDB: Compressed tables use zlib 1.2.13",
         utc(2026, 12, 2, 16, 44, 51), "0 [Note] InnoDB: Compressed tables use zlib 1.2.13",
         Severity.INFO),
        # Mosquitto 2.0's log (log_timestamp on by default: the seconds and a colon)
        ("1796193878: New connection from 127.0.0.1:43714 on port 1883.",
         utc(2026, 12, 2, 6, 44, 38), "New connection from 127.0.0.1:43714 on port 1883.",
         Severity.INFO),
        # NATS server 2.9 (its process id, then Go's `log` stamp and the level)
        ("[3014] 2026/12/02 06:44:30.945439 [INF] Starting nats-server",
         utc(2026, 12, 2, 6, 44, 30, 945439), "[INF] Starting nats-server", Severity.INFO),
        # etcd 3.3 (capnslog: the level's letter and a bar after the stamp)
        ('2018-03-28 09:16:47.227138 W | etcdserver: read-only range request "key:\\"/registry/'
         'pods/\\" " with result "range_response_count:12 size:41296" took too long '
         "(141.375455ms) to execute", utc(2018, 3, 28, 9, 16, 47, 227138),
         'etcdserver: read-only range request "key:\\"/registry/pods/\\" " with result '
         '"range_response_count:12 size:41296" took too long (141.375455ms) to execute',
         Severity.WARNING),
        ("2018-03-28 09:16:48.000001 E | rafthttp: failed to dial 8e9e05c52164694d on stream "
         "MsgApp v2 (peer 8e9e05c52164694d failed to find local node 2b9f36b1e1a13b5c)",
         utc(2018, 3, 28, 9, 16, 48, 1), "rafthttp: failed to dial 8e9e05c52164694d on stream "
         "MsgApp v2 (peer 8e9e05c52164694d failed to find local node 2b9f36b1e1a13b5c)",
         Severity.ERROR),
        # CouchDB 2 and 3 (couch_log_formatter: the level in brackets before the stamp)
        ("[notice] 2017-06-06T19:06:09.347000Z couchdb@localhost <0.342.0> -------- "
         "chttpd_auth_cache changes listener died database_does_not_exist",
         utc(2017, 6, 6, 19, 6, 9, 347000), "couchdb@localhost <0.342.0> -------- "
         "chttpd_auth_cache changes listener died database_does_not_exist", Severity.NOTICE),
        ("[error] 2017-06-06T19:06:09.348000Z couchdb@localhost emulator -------- Error in "
         "process <0.350.0> on node couchdb@localhost with exit value: {database_does_not_exist}",
         utc(2017, 6, 6, 19, 6, 9, 348000), "couchdb@localhost emulator -------- Error in "
         "process <0.350.0> on node couchdb@localhost with exit value: {database_does_not_exist}",
         Severity.ERROR),
        # MongoDB before 4.4: the severity's letter and the component after the stamp
        ("2019-03-04T10:00:02.123+0000 E STORAGE  [initandlisten] WiredTiger error (28) "
         "[1551693602:123][1:0x7f], file:WiredTiger.wt, WT_SESSION.create: No space left on "
         "device", utc(2019, 3, 4, 10, 0, 2, 123000), "STORAGE  [initandlisten] WiredTiger "
         "error (28) [1551693602:123][1:0x7f], file:WiredTiger.wt, WT_SESSION.create: No "
         "space left on device", Severity.ERROR),
        ("2019-03-04T10:00:03.123+0000 I NETWORK  [conn12] end connection 10.0.0.5:50312 "
         "(3 connections now open)", utc(2019, 3, 4, 10, 0, 3, 123000), "NETWORK  [conn12] "
         "end connection 10.0.0.5:50312 (3 connections now open)", Severity.INFO),
        # Zabbix server 4 (its process id padded to six, the date, the time)
        ("  1234:20190304:100005.123 [Z3001] connection to database 'zabbix' failed: [2002] "
         "Can't connect to local MySQL server through socket '/var/run/mysqld/mysqld.sock' "
         "(2)", utc(2019, 3, 4, 10, 0, 5, 123000), "[Z3001] connection to database 'zabbix' "
         "failed: [2002] Can't connect to local MySQL server through socket "
         "'/var/run/mysqld/mysqld.sock' (2)", Severity.INFO),
        ("123456:20190304:100006.001 server #2 started [alerter #1]",
         utc(2019, 3, 4, 10, 0, 6, 1000), "server #2 started [alerter #1]", Severity.INFO),
        # Icinga 2 (`[time zone] severity/facility: message`)
        ("[2019-03-04 11:00:04 +0100] critical/ApiListener: Cannot connect to host 'master1' "
         "on port '5665'", utc(2019, 3, 4, 10, 0, 4), "critical/ApiListener: Cannot connect "
         "to host 'master1' on port '5665'", Severity.CRITICAL),
        ("[2019-03-04 11:00:05 +0100] information/ConfigItem: Committing config item(s).",
         utc(2019, 3, 4, 10, 0, 5), "information/ConfigItem: Committing config item(s).",
         Severity.INFO),
        # Nagios' event log: a monitored service's state is not the monitor's level
        ("[1551693606] SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;Connection refused",
         utc(2019, 3, 4, 10, 0, 6), "SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;Connection "
         "refused", Severity.INFO),
        # Cassandra's logback layout: the level and the thread before the stamp
        ("ERROR [main] 2019-03-04 10:00:01,123 CassandraDaemon.java:749 - Exception "
         "encountered during startup", utc(2019, 3, 4, 10, 0, 1, 123000),
         "CassandraDaemon.java:749 - Exception encountered during startup", Severity.ERROR),
        ("INFO  [main] 2019-03-04 10:00:00,001 CassandraDaemon.java:471 - Hostname: cass1:7000",
         utc(2019, 3, 4, 10, 0, 0, 1000), "CassandraDaemon.java:471 - Hostname: cass1:7000",
         Severity.INFO),
        # Ceph's daemons: the thread and the entry's priority after the stamp (-1: an error)
        ("2019-03-04 10:00:00.123456 7f8c2b3fe700 -1 osd.3 1234 heartbeat_check: no reply "
         "from 10.0.0.2:6802 osd.5 since back 2019-03-04 09:59:40.123456",
         utc(2019, 3, 4, 10, 0, 0, 123456), "osd.3 1234 heartbeat_check: no reply from "
         "10.0.0.2:6802 osd.5 since back 2019-03-04 09:59:40.123456", Severity.ERROR),
        ("2019-03-04 10:00:01.123456 7f8c2b3fe700  0 log_channel(cluster) log [WRN] : Health "
         "check failed: 1 osds down (OSD_DOWN)", utc(2019, 3, 4, 10, 0, 1, 123456),
         "log_channel(cluster) log [WRN] : Health check failed: 1 osds down (OSD_DOWN)",
         Severity.WARNING),
        ("2019-03-04T10:00:02.123+0000 7f8c2b3fe700  1 mon.a@0(leader).osd e1234 do_prune "
         "osdmap full prune enabled", utc(2019, 3, 4, 10, 0, 2, 123000),
         "mon.a@0(leader).osd e1234 do_prune osdmap full prune enabled", Severity.DEBUG),
        # BIND 9's log file (print-time, print-category, print-severity)
        ("04-Mar-2019 10:00:00.123 general: error: zone example.com/IN: loading from master "
         "file db.example failed: file not found", utc(2019, 3, 4, 10, 0, 0, 123000),
         "general: error: zone example.com/IN: loading from master file db.example failed: "
         "file not found", Severity.ERROR),
        # Asterisk's log file: a year-less date in brackets, the level before its thread
        ("[Mar  4 10:00:02] ERROR[1234] chan_sip.c: Failed to authenticate device "
         "100<sip:100@1.2.3.4>;tag=abc", utc(2026, 3, 4, 10, 0, 2), "ERROR[1234] chan_sip.c: "
         "Failed to authenticate device 100<sip:100@1.2.3.4>;tag=abc", Severity.ERROR),
        ("[Nov 29 23:59:59] NOTICE[1234][C-00000001] chan_sip.c: Registration from "
         "'\"100\"<sip:100@1.2.3.4>' failed for '1.2.3.4:5060' - Wrong password",
         utc(2026, 11, 29, 23, 59, 59), "NOTICE[1234][C-00000001] chan_sip.c: Registration "
         "from '\"100\"<sip:100@1.2.3.4>' failed for '1.2.3.4:5060' - Wrong password",
         Severity.INFO),
        # Samba's debug header (lib/util/debug.c, `[%s, %2d]`), with `debug pid`, `debug
        # uid` and `debug class`; Samba 3.0's without microseconds. The level is not read
        # as the line's: the startup banner is logged at level 0
        ("[2026/03/04 10:00:00.123456,  0] ../../source3/smbd/server.c:1734(main)",
         utc(2026, 3, 4, 10, 0, 0, 123456), "../../source3/smbd/server.c:1734(main)",
         Severity.INFO),
        ("[2026/03/04 10:00:01.000000,  3, pid=1234, effective(0, 0), real(0, 0), class=auth] "
         "../../source3/auth/auth.c:219(auth_check_ntlm_password)", utc(2026, 3, 4, 10, 0, 1),
         "../../source3/auth/auth.c:219(auth_check_ntlm_password)", Severity.INFO),
        ("[2006/03/04 10:00:02, 0] smbd/server.c:main(944)", utc(2006, 3, 4, 10, 0, 2),
         "smbd/server.c:main(944)", Severity.INFO),
        # Pi-hole's FTL before v6 (FTL.log): the process and its thread in the bracket
        ("[2021-05-01 12:00:00.123 1234M] Imported 0 queries from the long-term database",
         utc(2021, 5, 1, 12, 0, 0, 123000), "Imported 0 queries from the long-term database",
         Severity.INFO),
        ("[2021-05-01 12:00:01.456 1234/T1240] WARNING: Long-term load (15min avg) larger "
         "than number of processors: 4.3 > 4", utc(2021, 5, 1, 12, 0, 1, 456000),
         "WARNING: Long-term load (15min avg) larger than number of processors: 4.3 > 4",
         Severity.WARNING),
        # certbot's letsencrypt.log: Python's logging, `%(asctime)s:%(levelname)s:...`
        ("2026-03-04 10:00:00,123:ERROR:certbot._internal.renewal:Failed to renew "
         "certificate example.com with error: urn:ietf:params:acme:error:rateLimited",
         utc(2026, 3, 4, 10, 0, 0, 123000), "ERROR:certbot._internal.renewal:Failed to renew "
         "certificate example.com with error: urn:ietf:params:acme:error:rateLimited",
         Severity.ERROR),
        ("2026-03-04 10:00:01,004:DEBUG:certbot._internal.main:certbot version: 2.9.0",
         utc(2026, 3, 4, 10, 0, 1, 4000), "DEBUG:certbot._internal.main:certbot version: 2.9.0",
         Severity.INFO),
        # Prometheus (go-kit log): `ts=` first
        ('ts=2026-03-04T10:00:00.123Z caller=main.go:532 level=info msg="Starting Prometheus"',
         utc(2026, 3, 4, 10, 0, 0, 123000), 'caller=main.go:532 level=info msg="Starting Prometheus"',
         Severity.INFO),
        # Loki: the level first, then `ts=`
        ('level=error ts=2026-03-04T10:00:01.5Z caller=flush.go:143 msg="failed to flush"',
         utc(2026, 3, 4, 10, 0, 1, 500000), 'level=error caller=flush.go:143 msg="failed to flush"',
         Severity.ERROR),
        # Grafana: `t=` with an offset
        ('logger=sqlstore t=2026-03-04T11:00:02.000000+01:00 level=error msg="Database locked"',
         utc(2026, 3, 4, 10, 0, 2), 'logger=sqlstore level=error msg="Database locked"',
         Severity.ERROR),
        # Traefik, logrus' text form: `time=` quoted
        ('time="2026-03-04T10:00:03Z" level=warning msg="Provider connection error"',
         utc(2026, 3, 4, 10, 0, 3), 'level=warning msg="Provider connection error"',
         Severity.WARNING),
    ],
)  # fmt: skip
def test_a_raw_line_is_read_at_the_time_it_starts_with(
    line: str, ts: datetime, message: str, severity: Severity
) -> None:
    # An access log's stamp after the client, a logfmt line's `ts=` pair: also read,
    # and taken out of the message.
    (e,) = read(line)
    assert isinstance(e, LogEvent), e
    assert (e.ts, e.message, e.severity) == (ts, message, severity)


@pytest.mark.parametrize(
    "line",
    [
        "20260304 10:00:00 compact date",  # no separators: not one of the shapes
        # HDFS's `%d{yyMMdd HHmmss}` (Loghub's HDFS sample): no program's default
        "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating",
        "123456 10:00:00 six digits that are no date",  # month 34
        "131314 10:00:00 month 13",
        "130314  9:48 no seconds",
        "2026-03-04 10:00:00Zebra crossing",  # the stamp must end at a blank or a bracket
        "2026-03-04 10:00:00:123 a fourth colon",
        "2026-03-04 10:00:00,123:456 a colon and digits after the fraction",
        "2026-03-04 10:00:00.5: a colon and a blank",
        "2026-03-04 10:00:00,a comma and no blank",
        "I0304 10:00:00 klog always writes microseconds",
        "X0304 10:00:00.000000 not a klog level",
        "1:M 04 Mar 2026 10:00:00.123 x not a Redis level mark",
        "1:Q 04 Mar 2026 10:00:00.123 * not a Redis role",
        "03-17 16:13:38.811 a month-day and no process, thread and level",
        "03-17 16:13:38.811  1702  2395 X not a logcat level",
        "[2026-03-04 10:00:00 no closing bracket",
        "[2026/03/04 10:00:00.123456, x] a word where Samba's level stands",
        "[2026/03/04 10:00:00.123456,  0 Samba's level and no closing bracket",
        "[2026/03/04 10:00:00.123456,  1234] a level of four digits",
        "[2021-05-01 12:00:00.123 1234X] not Pi-hole's thread mark",
        "[2021-05-01 12:00:00.123 words] a word after the time",
        "04/03/2026 10:00:00 day first: which is the month?",
        "04-03-2026 10:00:00 day first with dashes and a month number",
        "Mar 04 10:00:00 2026 no weekday",
        "Mar 04, 2026 13:05:09 PM a 24-hour clock with PM",
        "Mar 04, 2026 1:05:09 a 12-hour clock without AM or PM",
        "Mar 04, 26 1:05:09 PM a two-digit year",
        "Jan 05, 2021 12:22:41 a 24-hour clock without milliseconds or AM/PM",
        "Jan 05, 2021 24:22:41.452 hour 24",
        "1286536309.45 two digits of milliseconds",
        "12865363090.450 eleven digits",
        "0286536309.450 a leading zero",
        "1286536309.450x not followed by a blank",
        "12345 2026-03-04 10:00:00 a stamp further in",
        "2026-03-04T 9:00:00 a blank-padded hour after a T",
        "2026-03-04   9:00:00 three blanks",
        "1796193878:x no blank after Mosquitto's colon",
        "1796193878 no colon after the seconds",
        "[1796193878 no closing bracket",
        "[1796193878]x no blank after the bracket",
        "[3014] a process id and no stamp",
        "[3014] 2026-03-04 10:00:00 a process id before a stamp other than Go's",
        "[error] 2026/03/04 10:00:00 a level before a stamp other than ISO 8601's",
        "[fatal] 2026-03-04T10:00:00Z not one of CouchDB's levels",
        "ERROR [main] not a stamp after the thread",
        "[Mar  4 10:00:02 no closing bracket",
        "[Mar  4 10:00] no seconds",
        "INFO [x] 2019/03/04 10:00:00 a Go stamp after a thread",
        "       1234 20190304:100005.123 no colon after the process id",
        "2026-03-04",
        "Sun",
    ],
)
def test_what_is_not_a_stamp_at_the_start_leaves_the_line_whole(line: str) -> None:
    assert leading_stamp(line) is None
    (e,) = read(line)
    assert (e.ts, e.message) == (NOW, line)


# The CRI log format kubelet keeps (containerd, CRI-O): the examples of Kubernetes'
# kubelet-cri-logging design, and a klog line of a control-plane pod's stderr.
@pytest.mark.parametrize(
    ("line", "ts", "message", "attributes", "severity"),
    [
        ("2016-10-06T00:17:09.669794202Z stdout F The content of the log entry 1",
         utc(2016, 10, 6, 0, 17, 9, 669794), "The content of the log entry 1",
         {"stream": "stdout"}, Severity.INFO),
        ("2016-10-06T00:17:10.113242941Z stderr P The content of the log entry 2",
         utc(2016, 10, 6, 0, 17, 10, 113242), "The content of the log entry 2",
         {"stream": "stderr", "partial": True}, Severity.INFO),
        ("2026-03-04T10:00:01.000000001+00:00 stderr F E0304 10:00:01.000000       1 "
         "reflector.go:138] failed to list *v1.Pod: connection refused",
         utc(2026, 3, 4, 10, 0, 1), "E0304 10:00:01.000000       1 reflector.go:138] failed "
         "to list *v1.Pod: connection refused", {"stream": "stderr"}, Severity.ERROR),
    ],
)  # fmt: skip
def test_a_cri_log_line_is_the_containers_own_line(
    line: str, ts: datetime, message: str, attributes: dict, severity: Severity
) -> None:
    (e,) = read(line)
    assert (e.ts, e.message, dict(e.attributes), e.severity) == (ts, message, attributes, severity)


@pytest.mark.parametrize(
    "line",
    [
        "2016-10-06T00:17:09.669794202Z stdout X not a CRI tag",
        "2016-10-06T00:17:09.669794202Z stdoutF no blank",
        "2016-10-06T00:17:09.669794202Z stdout Fx a longer word",
        "2016-10-06T00:17:09.669794202Z stdin F no such stream",
    ],
)
def test_what_only_starts_like_a_cri_line_keeps_its_text(line: str) -> None:
    (e,) = read(line)
    assert e.message == line.split(" ", 1)[1]
    assert "stream" not in e.attributes


def test_an_access_line_of_an_impossible_date_is_rejected_and_others_are_not_access_lines() -> None:
    (bad,) = read('203.0.113.9 - - [31/Feb/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1')
    assert bad.reason == "invalid date '31/Feb/2026:10:00:00 +0000'"
    # one word too many before the client, and no port after it: no access line
    other = 'www.example.org 10.0.0.1 - - [04/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1'
    (e,) = read(other)
    assert (e.ts, e.message) == (NOW, other)


def test_apaches_vhost_combined_line_is_an_access_line() -> None:
    # Debian's and Ubuntu's other_vhosts_access.log: "%v:%p %h %l %u %t ..." (apache2.conf)
    (e,) = read(
        'www.example.org:443 10.0.0.1 - - [04/Mar/2026:10:00:00 +0000] "GET /api HTTP/1.1" '
        '503 299 "-" "curl/8.5.0"'
    )
    assert e.ts == utc(2026, 3, 4, 10)
    assert e.message == (
        'www.example.org:443 10.0.0.1 - - "GET /api HTTP/1.1" 503 299 "-" "curl/8.5.0"'
    )
    assert e.severity is Severity.ERROR


def test_proxmoxs_access_line_with_a_numeric_month_is_an_access_line() -> None:
    # pveproxy's access.log: strftime "%d/%m/%Y:%H:%M:%S %z", day first as the CLF
    start, failed, no_month = read(
        '::ffff:192.168.1.10 - root@pam [04/03/2019:10:00:00 +0100] "GET /api2/json/cluster/'
        'resources HTTP/1.1" 200 1234',
        '::ffff:192.168.1.10 - root@pam [04/03/2019:10:00:01 +0100] "POST /api2/json/nodes/'
        'pve/qemu/100/status/start HTTP/1.1" 500 13',
        '1.2.3.4 - - [04/13/2019:10:00:02 +0100] "GET / HTTP/1.1" 200 1',
    )
    assert (start.ts, failed.ts) == (utc(2019, 3, 4, 9), utc(2019, 3, 4, 9, 0, 1))
    assert start.message.startswith('::ffff:192.168.1.10 - root@pam "GET /api2/json/')
    assert (start.severity, failed.severity) == (Severity.INFO, Severity.ERROR)
    assert no_month.message.startswith("1.2.3.4 - - [04/13/2019")  # no thirteenth month


def test_a_scanners_access_line_read_from_a_file_is_still_dropped_as_noise() -> None:
    (e,) = read('203.0.113.9 - - [04/Mar/2026:10:00:00 +0000] "GET /.env HTTP/1.1" 404 153 "-" "-"')
    decision = NoiseFilter.from_config(NoiseConfig()).apply(e)
    assert (decision.action, decision.rule) == (NoiseAction.DROP, "web-scanner-4xx")


@pytest.mark.parametrize(
    "line",
    [
        'level=info msg="no time of its own"',
        'time="2026-03-04T10:00:03Z level=warning an unclosed quote',
        "msg=hello ts=2026-03-04T10:00:03Zulu",
        "a sentence with ts=2026-03-04T10:00:03Z in it",  # not logfmt: no key first
    ],
)
def test_what_is_no_logfmt_time_leaves_the_line_whole(line: str) -> None:
    (e,) = read(line)
    assert (e.ts, e.message) == (NOW, line)


@pytest.mark.parametrize(
    ("line", "severity"),
    [
        ("2026-03-04 10:00:00.000001 C | etcdmain: listen tcp 0.0.0.0:2379: bind: address "
         "already in use", Severity.CRITICAL),
        ("2026-03-04 10:00:00.000002 N | etcdserver/membership: set the initial cluster "
         "version to 3.3", Severity.NOTICE),
        ("2026-03-04 10:00:00.000003 I | embed: ready to serve client requests", Severity.INFO),
        ("2026-03-04 10:00:00.000004 D | etcdserver/api/v2http: [GET] /health", Severity.DEBUG),
    ],
)  # fmt: skip
def test_capnslogs_letter_is_the_lines_level(line: str, severity: Severity) -> None:
    (e,) = read(line)
    assert e.severity == severity and e.message == line.split(" | ", 1)[1]


def test_a_thread_without_cephs_priority_stays_in_the_message() -> None:
    (e,) = read("2019-03-04 10:00:00 7f8c2b3fe700 x a word where Ceph's priority stands")
    assert (e.message, e.severity) == ("7f8c2b3fe700 x a word where Ceph's priority stands",
                                       Severity.INFO)  # fmt: skip


def test_a_bar_without_a_capnslog_letter_stays_in_the_message() -> None:
    (e,) = read("2026-03-04 10:00:00 X | not a level")
    assert (e.message, e.severity) == ("X | not a level", Severity.INFO)


def test_unbounds_log_file_names_its_time_program_process_and_level() -> None:
    # util/log.c: "[%lld] %s[%d:%x] %s: %s" (seconds, ident, process, thread, level)
    lines = (
        "[1677000001] unbound[1234:0] info: start of service (unbound 1.17.1).",
        "[1677000002] unbound[1234:0] error: can't bind socket: Address already in use "
        "for 0.0.0.0 port 53",
        "[1677000003] unbound[1234:1] fatal error: could not open ports",
        "[1677000004] no ident after the seconds",
    )
    start, bind, fatal, bare = read(*lines)
    assert (start.ts, start.service, start.attributes["pid"]) == (
        utc(2023, 2, 21, 17, 20, 1),
        "unbound",
        "1234",
    )
    assert start.message == "info: start of service (unbound 1.17.1)."
    assert (bind.severity, fatal.severity) == (Severity.ERROR, Severity.CRITICAL)
    assert bind.message.startswith("error: can't bind socket")
    assert (bare.ts, bare.service, bare.message) == (
        utc(2023, 2, 21, 17, 20, 4),
        "unknown",
        "no ident after the seconds",
    )


def test_the_process_id_before_a_nats_stamp_is_the_lines_pid() -> None:
    (e,) = read("[3014] 2026/12/02 06:44:30.945439 [ERR] Error trying to connect to route")
    assert (e.attributes["pid"], e.severity) == ("3014", Severity.ERROR)
    assert e.message == "[ERR] Error trying to connect to route"


def test_redis_process_id_is_the_lines_pid() -> None:
    (e,) = read("4711:C 04 Mar 2026 10:00:01.456 * DB saved on disk")
    assert (e.attributes, e.message) == ({"pid": "4711"}, "DB saved on disk")


def test_a_year_less_klog_stamp_takes_the_given_year() -> None:
    options = ReadOptions(source="kubelet.log", default_time=NOW, year=2019)
    december, january = read(
        "I1231 23:59:59.000000       1 a.go:1] last of the year",
        "I0101 00:00:01.000000       1 a.go:1] first of the next",
        options=options,
    )
    assert (december.ts, january.ts) == (utc(2019, 12, 31, 23, 59, 59), utc(2020, 1, 1, 0, 0, 1))


def test_a_zone_after_a_blank_needs_four_digits() -> None:
    (e,) = read("2026-03-04 10:00:00 -1 retries left")
    assert (e.ts, e.message) == (utc(2026, 3, 4, 10), "-1 retries left")


def test_lines_without_a_stamp_have_the_time_of_the_stamped_line_before_them() -> None:
    items = read(
        "a line before any stamp",
        "2015-10-18 18:06:26,029 ERROR [main] x.Y: boom",
        "java.net.NoRouteToHostException: No route to host",
        "\tat org.apache.hadoop.ipc.Client.call(Client.java:1476)",
        "2015-10-18 18:06:27,500 INFO [main] x.Y: retrying",
        "\tat org.apache.hadoop.ipc.Client.call(Client.java:1476)",
    )
    first, second = utc(2015, 10, 18, 18, 6, 26, 29000), utc(2015, 10, 18, 18, 6, 27, 500000)
    assert [e.ts for e in items] == [NOW, first, first, first, second, second]
    assert items[3].message == "\tat org.apache.hadoop.ipc.Client.call(Client.java:1476)"
    # only the line before any stamp was placed at the time of reading, and says so
    assert [UNTIMED in e.attributes for e in items] == [True] + [False] * 5


def test_a_stamp_without_a_zone_is_local_to_the_input_and_daylight_saving_is_marked() -> None:
    berlin = ReadOptions(source="app.log", default_time=NOW, naive_tz=ZoneInfo("Europe/Berlin"))
    summer, gap, overlap = read(
        "2026-07-01 12:00:00,000 INFO summer time",
        "2026-03-29 02:30:00,000 INFO an hour that never happens",
        "2026-10-25 02:30:00,000 INFO an hour that happens twice",
        options=berlin,
    )
    assert summer.ts == utc(2026, 7, 1, 10) and "_dst" not in summer.attributes
    assert (gap.ts, gap.attributes["_dst"]) == (utc(2026, 3, 29, 1, 30), "dst_gap")
    assert (overlap.ts, overlap.attributes["_dst"]) == (utc(2026, 10, 25, 0, 30), "dst_overlap")
    # A written zone is the stamp's own, whatever the input's.
    (zoned,) = read("2026-10-25 02:30:00+01:00 INFO x", options=berlin)
    assert zoned.ts == utc(2026, 10, 25, 1, 30) and "_dst" not in zoned.attributes


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2026-02-30 10:00:00 INFO x", "invalid date '2026-02-30 10:00:00'"),
        ("2026-13-01 10:00:00 INFO x", "invalid date '2026-13-01 10:00:00'"),
        ("2026-03-04 25:00:00 INFO x", "invalid date '2026-03-04 25:00:00'"),
        ("2026-03-04 10:00:61 INFO x", "invalid date '2026-03-04 10:00:61'"),
        ("2026-03-04T10:00:00+24:00 x", "invalid date '2026-03-04T10:00:00+24:00'"),
        ("[Sun Feb 30 04:47:44 2005] [error] x", "invalid date 'Sun Feb 30 04:47:44 2005'"),
        ("2999-03-04 10:00:00 INFO x",
         "absurd timestamp '2999-03-04 10:00:00' in field 'timestamp' (outside years 1970..2200)"),
        ("I1340 10:00:00.000000 1 x.go:1] month 13", "invalid date 'I1340 10:00:00.000000'"),
        ("[04-Mar-2026 10:00:00 Mars/Olympus] PHP Warning:  x",
         "invalid date '04-Mar-2026 10:00:00 Mars/Olympus'"),  # no such zone
        ("[04-Mar-2026 10:00:00 America/Argentina] PHP Warning:  x",
         "invalid date '04-Mar-2026 10:00:00 America/Argentina'"),  # a folder of zones
        ("31-Feb-2026 10:00:00.000 INFO [main] x", "invalid date '31-Feb-2026 10:00:00.000'"),
        # the new shapes name their stamp too: JUL, Plex, Samba, Pi-hole, Squid
        ("Feb 30, 2026 1:05:09 PM org.x y", "invalid date 'Feb 30, 2026 1:05:09 PM'"),
        ("Feb 30, 2021 12:22:41.452 [0x7f] ERROR - x", "invalid date 'Feb 30, 2021 12:22:41.452'"),
        ("[2026/02/30 10:00:00.123456,  0] x.c:1(f)", "invalid date '2026/02/30 10:00:00.123456'"),
        ("[2021-02-30 12:00:00.123 1234M] x", "invalid date '2021-02-30 12:00:00.123'"),
        ("9999999999.000    345 192.168.0.68 TCP_MISS/200 507 GET http://x/ - DIRECT/- -",
         "absurd timestamp '9999999999.000' in field 'timestamp' (outside years 1970..2200)"),
        ("0001-01-01 00:00:00 INFO x",
         "absurd timestamp '0001-01-01 00:00:00' in field 'timestamp' (outside years 1970..2200)"),
    ],
)  # fmt: skip
def test_a_stamp_of_an_impossible_time_rejects_its_line_naming_it(line: str, reason: str) -> None:
    (r,) = read(line)
    assert isinstance(r, Rejected)
    assert (r.reason, r.line_no, r.source) == (reason, 1, "app.log")


def test_a_line_dated_after_its_reading_is_rejected_and_the_next_lines_go_on() -> None:
    options = ReadOptions(source="app.log", default_time=NOW, not_after=NOW + timedelta(days=1))
    future, later = read(
        "2199-01-01 00:00:00 INFO a clock far ahead",
        "2026-11-30 11:00:00 INFO back on time",
        options=options,
    )
    assert isinstance(future, Rejected) and "timestamp in the future" in future.reason
    assert later.ts == utc(2026, 11, 30, 11)


def test_a_file_without_stamps_is_counted_and_named_by_ingest_backtest_and_stats(
    tmp_path: Path,
) -> None:
    # HDFS's `%d{yyMMdd HHmmss}` (Loghub's HDFS sample) is no shape LogVigil reads: every
    # line is placed at the time of reading, which the commands say instead of replaying
    # one silent minute
    log = tmp_path / "hdfs.log"
    log.write_text(
        "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block "
        "blk_38865049064139660 terminating\n"
        "081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block "
        "blk_-6952295868487656571 terminating\n"
    )
    runner = CliRunner()
    replayed = runner.invoke(app, ["backtest", str(log)])
    assert replayed.exit_code == 0, replayed.output
    assert "time: none of the 2 lines has a time stamp of a shape LogVigil reads" in (
        " ".join(replayed.stderr.split())
    )
    db = f"sqlite:///{tmp_path / 'x.db'}"
    log.write_text("a banner before the log\n2026-03-04 10:00:00,000 INFO started\n")
    ingested = runner.invoke(app, ["ingest", str(log), "--db", db])
    assert ingested.exit_code == 0, ingested.output
    said = " ".join(ingested.stderr.split())
    assert "time: 1 of the 2 lines came before any line with a time stamp of a shape " in said
    assert "placed at the time of reading, not at the first stamped line's" in said
    stats = json.loads(runner.invoke(app, ["stats", "--db", db, "--json"]).stdout)
    assert stats["untimed"] == {"no time stamp: placed at the time of reading": 1}
    stamped = tmp_path / "stamped.log"
    stamped.write_text("2026-03-04 10:00:00,000 INFO started\nno stamp, after one\n")
    quiet = runner.invoke(app, ["ingest", str(stamped), "--db", db])
    assert quiet.exit_code == 0 and "time:" not in quiet.stderr


def test_a_java_logging_record_is_its_stamp_line_and_its_level_line_at_one_time() -> None:
    # java.util.logging's SimpleFormatter writes a record on two lines: the time, the
    # class and method, then `LEVEL: message` (Tomcat 7's catalina.out)
    first, second = read(
        "Mar 04, 2026 1:05:09 PM org.apache.catalina.core.StandardContext startInternal",
        "SEVERE: Error listenerStart",
    )
    assert first.ts == second.ts == utc(2026, 3, 4, 13, 5, 9)
    assert (second.message, second.severity) == ("SEVERE: Error listenerStart", Severity.ERROR)


def test_a_line_that_is_only_a_stamp_keeps_it_as_its_message() -> None:
    (e,) = read("2026-03-04 10:00:00")
    assert (e.ts, e.message) == (utc(2026, 3, 4, 10), "2026-03-04 10:00:00")


def test_auto_detection_reads_an_application_log_as_raw() -> None:
    lines = [
        b"2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:"
        b"FastLeaderElection@774] - Notification time out: 3200",
        b"[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok",
        b"17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered",
    ]
    for line in lines:
        assert detect_format([line]) == "raw"


def test_fixed_offsets_are_kept_exactly() -> None:
    (e,) = read("2026-03-04T10:00:00.5+05:45 Kathmandu")
    assert e.ts == datetime(
        2026, 3, 4, 10, 0, 0, 500000, tzinfo=timezone(timedelta(hours=5, minutes=45))
    )


@pytest.mark.skipif(not LOGHUB.is_dir(), reason="../shared/data/loghub_2k absent")
@pytest.mark.parametrize("name", ["Apache", "Hadoop", "Spark", "Zookeeper"])
def test_every_line_of_a_real_application_log_is_read_at_its_own_time(name: str) -> None:
    path = LOGHUB / name / f"{name}_2k.log"
    with path.open("rb") as f:
        lines = f.read().splitlines()
    items = list(read_events(lines, "auto", ReadOptions(source=str(path), default_time=NOW)))
    assert len(items) == len(lines)
    for line, item in zip(lines, items, strict=True):
        assert isinstance(item, LogEvent), item
        stamp = leading_stamp(line.decode())
        assert stamp is not None, line  # every line of these samples starts with one
        assert item.ts.replace(tzinfo=None) == datetime(
            stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second,
            stamp.microsecond,
        )  # fmt: skip
        assert not item.message.startswith(stamp.text)

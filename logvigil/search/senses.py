"""The vocabulary of template search: the words that say nothing, and what operators say
for a thing against what programs write for it. Data, no logic.

The senses were grown from the misses of the development query sets
(`tests/search/queries.yaml`, `queries_fresh.yaml`), each entry vocabulary any
on-call person uses or a common program's own wording; none names a host or a
service of one store. `logvigil.search.lexical` says how they are matched.
"""

from __future__ import annotations

#: Words that say nothing in a search (English function words; never log vocabulary).
STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have how i in is it its me my "
    "no not of on or our that the their them then there these this those to was we were "
    "what when where which who why will with you your can t s "
    # Negated verbs, typed without their apostrophe ("can't" is `cant`) or written with
    # it (`doesn't` is `doesn` `t`): "can't connect" is about "connect". A phrase said
    # can still hold them ("won't start").
    "cant cannot wont dont doesnt didnt isnt wasnt arent couldnt wouldnt shouldnt hasnt "
    "havent hadnt doesn didn isn wasn aren couldn wouldn shouldn hasn haven hadn".split()
)

#: What operators say for a thing -> the phrases programs write for it (`|` between
#: phrases). Both are cut into words and stemmed like everything else. A phrase said
#: matches the query's words in order: a stop word of the query it lacks is skipped, one
#: it holds must be there ("not found" is not "found"); one inside a longer phrase that
#: matched does not count. Numbers count for these phrases alone (a status code such as
#: 502 is what people type; programs write it as a number, which is not searched).
SENSES: tuple[tuple[str, str], ...] = (
    # -- storage: libc's strerror, the kernel's block and filesystem drivers, fsck
    (
        "disk full | full | out of space | no space | space | no room | out of room"
        " | ran out of room | ran out of space | run out of space | filled up | fill up"
        " | fills up | disk filled | enospc",
        "no space left on device | enospc | filesystem full | quota exceeded | disk full",
    ),
    (
        "disk | disks | drive | drives | storage | volume | hdd | ssd",
        "disk | filesystem | device | space | mount | sda | vda | nvme | scsi | ext4 | xfs",
    ),
    ("size | how big | big | capacity", "size | bytes | blocks | gb | tb | gib | tib | large"),
    (
        "corrupt | corrupted | corruption | damaged | damage | garbled",
        "corrupt | corrupted | checksum | invalid | invalid page | read block | bad block"
        " | i/o error | uncleanly",
    ),
    (
        "repair | repaired | repairing | fsck | filesystem check | fix | fixed",
        "recovery | fsck | orphan cleanup | repair | replay | clean",
    ),
    (
        "io | io error | read error | write error | disk error | bad sector | bad sectors | eio"
        " | disk failing | failing disk | dying disk | drive failing | smart",
        "i/o error | blk_update_request | buffer i/o | medium error | bad sector",
    ),
    # -- memory: the kernel's OOM killer
    (
        "out of memory | memory | ram | oom | out of ram | ran out of ram | ran out of memory"
        " | run out of memory | memory leak | leak | leaking | enomem | memory full | ram full"
        " | low memory | memory pressure | mem | memory exhausted",
        "out of memory | oom | oom-killer | oom-kill | killed process | memory cgroup",
    ),
    ("swap | swapping", "swap | memory | oom"),
    (
        "ran out | run out | running out | runs out | exhausted",
        "out of | exhausted | no space | exceeded | limit",
    ),
    # -- a process dies, stops, starts: signals, systemd, the daemons' own words
    (
        "killed | kill | killing | kills | sigkill",
        "oom | oom-kill | sigkill | signal 9 | killed | terminated",
    ),
    (
        "crash | crashed | crashes | crashing | died | dies | dead | segfault",
        "segfault | core dumped | panic | killed | aborted | main process exited | sigsegv"
        " | sigabrt | not properly shut down | interrupted | uncleanly",
    ),
    ("exit | exited | exit code | exit status", "exited | status | code | exit-code"),
    (
        "restart | restarted | restarting | restarts | bounce | bounced | bouncing",
        "restarted | restarting | starting | started | stopping | stopped | scheduled restart",
    ),
    (
        "reboot | rebooted | rebooting | reboots | restart server | restarted server"
        " | restart machine | restart box | restart host | restart system | power cycle"
        " | power cycled",
        "reboot | rebooting | boot | booting | shutdown | linux version | system reboot | power",
    ),
    (
        "stop | stopped | stopping | stops | shut down | shutdown | shutting down",
        "stopping | stopped | shutdown | shutting down | sigterm | terminating | deactivated"
        " | exiting",
    ),
    (
        "graceful | gracefully | clean shutdown | cleanly",
        "shutdown | sigterm | requested | fast shutdown | final | ready to exit | clean",
    ),
    (
        "start | started | starting | come up | came up | comes up | launch | launched",
        "starting | started | ready | listening | initialized | loaded",
    ),
    (
        "wont start | wont come up | failed to start | fails to start | cant start | cannot start"
        " | doesnt start",
        "failed to start | failed | cannot | unable | exit-code | fatal",
    ),
    ("online | back online", "ready | started | listening | accept connections | up"),
    (
        "up | is up | running | is running | alive",
        "listening | started | ready | accept connections | running",
    ),
    (
        "port taken | port in use | port already in use | port already taken | port conflict"
        " | port busy | address in use | cant bind | cannot bind | eaddrinuse",
        "address already in use | bind | eaddrinuse",
    ),
    ("back up | came back", "ready | started | listening | accept connections | resumed | up"),
    (
        "hang | hangs | hung | stuck | frozen | freeze | freezes | unresponsive | not responding",
        "hung | blocked for more than | stuck | not responding | timed out | soft lockup",
    ),
    (
        "hang up | hangs up | hung up | disconnect | disconnects | disconnected | disconnecting",
        "disconnect | disconnected | disconnecting | closed | connection closed | bye"
        " | reset by peer",
    ),
    # -- logins: OpenSSH, PAM, the web applications
    (
        "login | logins | log in | logged in | logon | sign in | signed in | signin",
        "session opened | accepted password | accepted publickey | authentication"
        " | login successful | auth | authenticating",
    ),
    (
        "password | passwords | passwd | credentials",
        "authentication | failed password | auth | password",
    ),
    (
        "wrong password | bad password | incorrect password | invalid password | wrong credentials",
        "failed password | authentication failure | failed authentication | invalid | incorrect",
    ),
    (
        "auth | authentication | authenticate",
        "authentication | auth | pam | login | authenticating",
    ),
    (
        "brute force | bruteforce | password guessing | guessing | guess | hammering | hammer"
        " | dictionary attack | credential stuffing | password spraying | attack | attacks"
        " | attacking | attacked | attacker | attackers | hacker | hackers | intrusion | break in",
        "failed password | invalid user | authentication failure"
        " | maximum authentication attempts | too many authentication failures",
    ),
    (
        "attempts | attempt | tries | tried | try | retries | retry",
        "attempt | tries | retry | retries | retrying",
    ),
    (
        "too many | maximum | max | limit | limits | exceeded",
        "maximum | exceeded | too many | limit | max | quota | too large",
    ),
    (
        "invalid user | unknown user | made up | fake | nonexistent | non existent | dont exist"
        " | doesnt exist | no such user | bogus",
        "invalid user | invalid | unknown | illegal",
    ),
    ("username | usernames | user name | account | accounts", "user"),
    ("key | keys | ssh key | pubkey | public key", "publickey | host key | public key"),
    ("banner | ssh banner | version string", "identification | protocol version | banner"),
    # -- the network: scanners, firewalls, proxies, DNS, TLS
    (
        "scan | scans | scanner | scanners | scanning | probe | probes | probing | port scan"
        " | bot | bots | crawler",
        "invalid user | did not receive identification | connection closed | bad protocol version"
        " | preauth | ufw block | banner exchange",
    ),
    (
        "firewall | iptables | nftables | ufw | netfilter | packet filter",
        "ufw | iptables | nftables | block | drop | reject | ufw block",
    ),
    (
        "dropped | dropping | drop | drops | blocked | blocking",
        "block | drop | dropped | reject | denied",
    ),
    (
        "denied | deny | rejected | reject | refused | refuse | forbidden | not allowed",
        "denied | refused | forbidden | rejected | not permitted | unable | block",
    ),
    (
        "permission | permissions | eacces | eperm",
        "permission denied | eacces | not permitted | forbidden",
    ),
    (
        "unreachable | cant reach | cannot reach | cant connect | cannot connect | cant talk"
        " | cannot talk | no connection | lost connection | connection lost | econnrefused",
        "connect | connection refused | refused | unreachable | timed out | upstream | no route",
    ),
    ("reach | talk | contact", "connect | connection"),
    ("backend | backends", "upstream"),
    (
        "network | ethernet | nic | lan | wifi | wlan | interface | cable",
        "link | eth0 | enp | wlan | nic | carrier | link is up | link is down",
    ),
    (
        "dns | name resolution | resolve | resolving | lookup | lookups | pihole | pi hole",
        "dns | resolve | resolution | nxdomain | servfail | query | forwarded | dnsmasq",
    ),
    (
        "502 | bad gateway | gateway | 504 | gateway timeout | proxy error | upstream error"
        " | backend error",
        "upstream | prematurely closed | connect() failed | no live upstreams | bad gateway"
        " | upstream timed out",
    ),
    (
        "503 | service unavailable | unavailable",
        "unavailable | no live upstreams | maintenance | upstream",
    ),
    (
        "404 | not found | notfound | missing | deleted | gone | no such file | disappeared"
        " | vanished | enoent",
        "not found | notfound | enoent | missing | located | exist | find",
    ),
    (
        "403 | 401 | forbidden | unauthorized",
        "forbidden | denied | permission | unauthorized | authentication",
    ),
    (
        "413 | upload | uploads | uploading | uploaded | too big | too large | file too big"
        " | body too large | request too large | size limit",
        "too large | large body | request entity too large | client_max_body_size | body | put"
        " | upload",
    ),
    (
        "500 | internal server error | internal error",
        "exception | fatal | error | internal | uncaught",
    ),
    (
        "health check | healthcheck | health checks | monitoring | uptime check | liveness"
        " | readiness | heartbeat | polling | poll | polled",
        "status | health | healthz | ping | alive | probe | monitor | heartbeat",
    ),
    ("browser | browsers | web client | user agent | curl", "http | mozilla | get | user agent"),
    (
        "ssl | tls | cipher | ciphers | crypto | cryptography | encryption | kex | key exchange"
        " | handshake | algorithm | algorithms",
        "ssl | tls | cipher | kex | key exchange | handshake | negotiate | no matching"
        " | diffie-hellman | certificate",
    ),
    (
        "mismatch | mismatched | incompatible | not compatible | no common | unsupported",
        "mismatch | no matching | unable to negotiate | incompatible | unsupported | version",
    ),
    (
        "weak | old | legacy | outdated | obsolete | deprecated | insecure",
        "deprecated | legacy | obsolete | insecure | weak | sha1",
    ),
    (
        "cert | certs | certificate | certificates | expired | expiry | expires",
        "certificate | tls | ssl | x509 | expired | expire",
    ),
    ("timeout | timeouts | timed out | time out | etimedout", "timed out | time out | timeout"),
    ("slow | slowness | lag | laggy | latency", "timeout | timed out | latency | took | slow"),
    (
        "down | is down | went down",
        "refused | unreachable | timed out | failed | stopped | inactive",
    ),
    # -- boot, power, time: the kernel, systemd
    (
        "boot | booted | booting | bootup | boots | startup | power on | powered on",
        "startup | booting | boot | linux version | kernel command line | startup finished",
    ),
    (
        "vm | vms | virtual machine | virtualized | virtualised | virtualization | hypervisor"
        " | guest | virtual",
        "virtualization | hypervisor | kvm | qemu | vmware | virtualbox | xen | virtio | hyper-v",
    ),
    ("hardware | motherboard | bios | firmware", "dmi | bios | hardware | firmware"),
    (
        "security hole | vulnerable | vulnerability | vulnerabilities | cve | exploit | security",
        "vulnerable | mitigation | spectre | meltdown | retbleed | cve | vulnerability",
    ),
    (
        "power cut | power loss | power failure | power outage | lost power | outage | unclean"
        " | unclean shutdown | hard reset | hard reboot | pulled plug | crash recovery"
        " | unexpected shutdown | unexpected reboot | sudden reboot | sudden shutdown | abrupt"
        " | abruptly | not shut down cleanly | not shut down properly | not cleanly"
        " | not properly | uncleanly",
        "not properly shut down | uncleanly | unclean | recovery | interrupted | orphan cleanup"
        " | automatic recovery",
    ),
    (
        "recovery | recover | recovered | recovering",
        "recovery | redo | replay | not properly shut down | interrupted | orphan cleanup",
    ),
    (
        "wal | write ahead log | transaction log | xlog | redo | redo log | replay | replaying",
        "wal | redo | record | replay | checkpoint | lsn | recovery",
    ),
    (
        "sleep | slept | asleep | suspend | suspended | standby | hibernate | hibernated",
        "suspend | sleep | suspending | hibernate",
    ),
    (
        "woke | wake | wakes | woke up | wake up | waking | resume | resumed | resuming"
        " | back from suspend | back from sleep | back from standby | out of suspend"
        " | out of sleep | out of standby",
        "resume | resumed | suspend exit | wake | woke",
    ),
    (
        "how long | duration | took | time taken | elapsed",
        "finished in | took | elapsed | duration",
    ),
    ("reload | reloaded | reloading | reloads", "load | loading | loaded | reload"),
    ("reconnect | reconnected | reconnecting", "connect | connected | connection"),
    ("remount | remounted", "mount | mounted"),
    (
        "succeed | succeeded | success | successful | successfully | worked | completed"
        " | finished | done",
        "success | successful | succeeded | saved | completed | finished | done",
    ),
    ("did run | run | runs", "finished | completed | succeeded | saved | done | started"),
    ("cron | cronjob | cron job | crontab | scheduled task", "cmd | crond | anacron | run-parts"),
    ("job | jobs", "cmd | cron | timer | unit"),
    ("failed | fail | fails | failing | failure | failures", "failure | failed | error | fatal"),
    ("error | errors | err", "failed | failure | fatal | error | exception"),
    ("warning | warnings | warn", "warning | warn"),
    (
        "duplicate | duplicates | dupe | dupes | already exists | integrity"
        " | constraint violation | unique violation",
        "duplicate | unique constraint | already exists | violates",
    ),
    ("picture | pictures | image | images | pic | pics", "photo | photos | image | jpg | jpeg"),
    (
        "persistence | persist | persisted | bgsave | save to disk | dump to disk",
        "saving | saved | save | snapshot | rdb | aof | dump | background saving",
    ),
    (
        "terminated | terminate | terminating | sigterm | sigint | sighup",
        "sigterm | terminating | received signal | exiting",
    ),
    ("signal | signals", "sigterm | sigkill | sighup | sigint | signal"),
    ("share | shares | export | exports", "nfs | smb | samba | cifs | export | mount"),
    ("time sync | ntp | clock | clock drift", "chrony | ntp | timesyncd | clock | time"),
    ("sudo | privilege | privileges | escalation", "sudo | root | command"),
    ("raid | array | degraded", "raid | md | mdadm | degraded"),
    ("lvm | logical volume | logical volumes", "dm | device-mapper | lvm | mapper"),
    ("config | configuration | settings | conf", "configuration | config | conf | cfg"),
    (
        "locale | locales | glibc | libc | collation | encoding | charset",
        "collation | locale | lc_collate | lc_ctype | encoding | glibc",
    ),
    (
        "upgrade | upgraded | upgrading | update | updated | updates",
        "version | upgrade | upgraded | updated",
    ),
    (
        "stack trace | stacktrace | backtrace | traceback | call trace | trace",
        "call trace | trace | stack | dump_stack | traceback | backtrace",
    ),
    (
        "temperature | overheating | overheat | thermal",
        "thermal | temperature above threshold | throttled",
    ),
    ("usb", "usb | new device | disconnect"),
    # -- the programs people name by what they are
    (
        "database | databases | db | dbs",
        "database | postgres | postgresql | mysql | mariadb | sql | db | pq | sqlstate | psycopg"
        " | jdbc",
    ),
    ("git | git server | forge", "gitea | gitlab | forgejo | gogs"),
    (
        "web | web server | webserver | proxy | reverse proxy | http server",
        "nginx | apache | httpd | caddy | traefik | haproxy | http | upstream",
    ),
    ("worker | workers | child | children | pool", "worker | child | pool | process"),
    ("process | processes | process list | process table | ps", "task | tasks | pid"),
    ("container | containers", "docker | containerd | container | podman"),
    ("sync client | file sync | desktop client", "dav | webdav | propfind"),
    (
        "journal | journald | logs | log | log files | log file | syslog",
        "journal | journald | log | syslog",
    ),
    ("mail | email | smtp", "postfix | smtp | dovecot | exim | sendmail"),
    ("vpn | wireguard", "wireguard | wg | openvpn | handshake | peer"),
    ("box | machine | server | host | node", "system"),
    ("service | services | daemon", "unit | systemd"),
    # systemd names its units `x.service`, `x.timer`, ...: "unit" is rarely in the line.
    ("unit | units", "service | timer | socket | mount"),
    ("systemd", "service | unit"),
)

#: Each phrase an operator says -> the words programs write for it (`SENSES`, a phrase
#: in several senses holding the words of all).
THESAURUS: dict[str, tuple[str, ...]] = {}
for _says, _writes in SENSES:
    for _phrase in _says.split("|"):
        _key = " ".join(_phrase.split())
        _adds = tuple(" ".join(w.split()) for w in _writes.split("|"))
        THESAURUS[_key] = tuple(dict.fromkeys(THESAURUS.get(_key, ()) + _adds))

# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""A small pure-Python MySQL client (protocol 4.1, mysql_native_password).

Why it exists: the sample's stand-in services must really talk to a MySQL-compatible
server with the configured user, password and database, exactly as eggroll (JDBC),
fateboard (JDBC) and fate_flow (PyMySQL) do, while the target host only guarantees a bare
python3 (3.6+). So the sample ships this client instead of a driver. It speaks the
classic text protocol only: connect, COM_QUERY, text result sets, COM_PING, COM_QUIT.
"""

import hashlib
import socket
import struct

__version__ = "1.4.5"

CLIENT_LONG_PASSWORD = 0x1
CLIENT_CONNECT_WITH_DB = 0x8
CLIENT_PROTOCOL_41 = 0x200
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_MULTI_RESULTS = 0x20000
CLIENT_PLUGIN_AUTH = 0x80000

COM_QUIT = 0x01
COM_QUERY = 0x03
COM_PING = 0x0E

ER_ACCESS_DENIED = 1045
ER_BAD_DB = 1049


class MySQLError(Exception):
    """An error packet from the server, or a broken conversation."""

    def __init__(self, code, message, sqlstate=""):
        super().__init__(f"({code}) {message}")
        self.code = code
        self.sqlstate = sqlstate
        self.message = message


def native_password_token(password, scramble):
    """SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))): the mysql_native_password answer."""
    if not password:
        return b""
    stage1 = hashlib.sha1(password.encode("utf-8")).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mix = hashlib.sha1(scramble + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mix))


def escape(value):
    """Render a Python value as an SQL literal (strings quoted and escaped)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    for old, new in (("\\", "\\\\"), ("'", "\\'"), ("\0", "\\0"), ("\n", "\\n"),
                     ("\r", "\\r"), ("\x1a", "\\Z")):
        text = text.replace(old, new)
    return "'" + text + "'"


def _lenenc_int(data, pos):
    first = data[pos]
    if first < 0xFB:
        return first, pos + 1
    if first == 0xFC:
        return struct.unpack_from("<H", data, pos + 1)[0], pos + 3
    if first == 0xFD:
        return int.from_bytes(data[pos + 1:pos + 4], "little"), pos + 4
    if first == 0xFE:
        return struct.unpack_from("<Q", data, pos + 1)[0], pos + 9
    raise MySQLError(2027, "malformed length-encoded integer")


def _lenenc_str(data, pos):
    if data[pos] == 0xFB:
        return None, pos + 1
    length, pos = _lenenc_int(data, pos)
    return data[pos:pos + length], pos + length


class Result:
    """Rows of a text result set (values are str or None) or the OK counters."""

    def __init__(self, columns=None, rows=None, affected_rows=0, insert_id=0):
        self.columns = columns or []
        self.rows = rows or []
        self.affected_rows = affected_rows
        self.insert_id = insert_id

    def dicts(self):
        return [dict(zip(self.columns, row)) for row in self.rows]


class Connection:
    """One authenticated session. Use connect() to make one."""

    def __init__(self, sock):
        self._sock = sock
        self._seq = 0
        self.server_version = ""

    # -- packet layer -------------------------------------------------------------------
    def _read_exact(self, count):
        chunks = []
        while count:
            chunk = self._sock.recv(count)
            if not chunk:
                raise MySQLError(2013, "Lost connection to MySQL server during query")
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def _read_packet(self):
        payload = b""
        while True:
            header = self._read_exact(4)
            length = int.from_bytes(header[:3], "little")
            self._seq = (header[3] + 1) & 0xFF
            payload += self._read_exact(length)
            if length < 0xFFFFFF:
                return payload

    def _write_packet(self, payload):
        while True:
            chunk, payload = payload[:0xFFFFFF], payload[0xFFFFFF:]
            self._sock.sendall(len(chunk).to_bytes(3, "little") + bytes([self._seq]) + chunk)
            self._seq = (self._seq + 1) & 0xFF
            if len(chunk) < 0xFFFFFF:
                return

    @staticmethod
    def _raise_err(packet):
        code = struct.unpack_from("<H", packet, 1)[0]
        if packet[3:4] == b"#":
            state, message = packet[4:9].decode(), packet[9:]
        else:
            state, message = "", packet[3:]
        raise MySQLError(code, message.decode("utf-8", "replace"), state)

    # -- handshake ----------------------------------------------------------------------
    def _handshake(self, user, password, database):
        packet = self._read_packet()
        if packet[0] == 0xFF:
            self._raise_err(packet)
        if packet[0] != 10:
            raise MySQLError(2027, f"unsupported protocol version {packet[0]}")
        end = packet.index(b"\0", 1)
        self.server_version = packet[1:end].decode("latin1")
        pos = end + 1 + 4
        scramble = packet[pos:pos + 8]
        pos += 8 + 1
        caps = struct.unpack_from("<H", packet, pos)[0]
        pos += 2
        plugin = "mysql_native_password"
        if len(packet) > pos:
            pos += 1 + 2
            caps |= struct.unpack_from("<H", packet, pos)[0] << 16
            pos += 2
            auth_len = packet[pos]
            pos += 1 + 10
            if caps & CLIENT_SECURE_CONNECTION:
                part2 = max(13, auth_len - 8)
                scramble += packet[pos:pos + part2 - 1]
                pos += part2
            if caps & CLIENT_PLUGIN_AUTH:
                plugin = packet[pos:].split(b"\0", 1)[0].decode("latin1")
        flags = (CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS
                 | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH)
        if database:
            flags |= CLIENT_CONNECT_WITH_DB
        token = native_password_token(password, scramble)
        body = struct.pack("<IIB", flags, 1 << 24, 33) + b"\0" * 23
        body += user.encode("utf-8") + b"\0" + bytes([len(token)]) + token
        if database:
            body += database.encode("utf-8") + b"\0"
        body += b"mysql_native_password\0"
        self._write_packet(body)
        reply = self._read_packet()
        if reply[0] == 0xFE:  # AuthSwitchRequest
            end = reply.index(b"\0", 1)
            plugin = reply[1:end].decode("latin1")
            if plugin != "mysql_native_password":
                raise MySQLError(2059, f"authentication plugin '{plugin}' is not supported by this "
                                       "sample client")
            self._write_packet(native_password_token(password, reply[end + 1:].rstrip(b"\0")))
            reply = self._read_packet()
        if reply[0] == 0xFF:
            self._raise_err(reply)

    # -- commands -----------------------------------------------------------------------
    def query(self, sql):
        """Run one statement; return a Result (rows for SELECT/SHOW, counters otherwise)."""
        self._seq = 0
        self._write_packet(bytes([COM_QUERY]) + sql.encode("utf-8"))
        first = self._read_packet()
        if first[0] == 0xFF:
            self._raise_err(first)
        if first[0] == 0x00:
            affected, pos = _lenenc_int(first, 1)
            insert_id, _ = _lenenc_int(first, pos)
            return Result(affected_rows=affected, insert_id=insert_id)
        count, _ = _lenenc_int(first, 0)
        columns = []
        for _ in range(count):
            col = self._read_packet()
            pos = 0
            for _ in range(4):  # catalog, schema, table, org_table
                _, pos = _lenenc_str(col, pos)
            name, pos = _lenenc_str(col, pos)
            columns.append(name.decode("utf-8"))
        eof = self._read_packet()
        if eof[0] != 0xFE:
            raise MySQLError(2027, "expected EOF after column definitions")
        rows = []
        while True:
            packet = self._read_packet()
            if packet[0] == 0xFE and len(packet) < 9:
                break
            if packet[0] == 0xFF:
                self._raise_err(packet)
            pos, row = 0, []
            while pos < len(packet):
                value, pos = _lenenc_str(packet, pos)
                row.append(None if value is None else value.decode("utf-8", "replace"))
            rows.append(tuple(row))
        return Result(columns=columns, rows=rows)

    def ping(self):
        self._seq = 0
        self._write_packet(bytes([COM_PING]))
        reply = self._read_packet()
        if reply[0] == 0xFF:
            self._raise_err(reply)

    def close(self):
        try:
            self._seq = 0
            self._write_packet(bytes([COM_QUIT]))
        except OSError:
            pass
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def connect(host="127.0.0.1", port=3306, user="root", password="", database=None,
            unix_socket=None, timeout=10.0):
    """Open and authenticate a session; raise MySQLError (with the server's text) if refused."""
    try:
        if unix_socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(unix_socket)
        else:
            sock = socket.create_connection((host, int(port)), timeout=timeout)
    except OSError as exc:
        where = unix_socket or f"{host}:{port}"
        raise MySQLError(2003, f"Can't connect to MySQL server on '{where}' ({exc})") from None
    conn = Connection(sock)
    try:
        conn._handshake(user, password or "", database)
    except BaseException:
        sock.close()
        raise
    return conn

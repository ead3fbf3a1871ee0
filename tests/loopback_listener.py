"""A TCP listener on 127.0.0.1 for the sandbox tests: a connection from a kernel that reaches it
shows that the network was not cut off (the negative controls), none that it was."""

import socket
import threading


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.arrived, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                self.arrived.append(self.sock.accept()[0])
            except OSError:
                pass

    def close(self) -> int:
        self.stop.set()
        self.thread.join()
        self.sock.close()
        return len(self.arrived)

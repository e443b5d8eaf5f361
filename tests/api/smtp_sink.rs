//! An SMTP server on loopback that keeps what it receives, standing in for a mail relay. It
//! speaks as much SMTP as a client that sends mail needs, and can be told to refuse mail for a
//! while (`451`, a failure that may pass).
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<String>>>,
    refusing: Arc<AtomicBool>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = Self {
            addr: listener.local_addr().unwrap(),
            mails: Arc::default(),
            refusing: Arc::default(),
        };
        let server = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move { server.session(stream).await });
            }
        });
        sink
    }

    /// Every message received so far, as its raw text.
    pub fn mails(&self) -> Vec<String> {
        self.mails.lock().unwrap().clone()
    }

    /// Refuses (or accepts again) every message with `451`.
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    async fn session(&self, stream: tokio::net::TcpStream) {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        if write.write_all(b"220 sink ESMTP\r\n").await.is_err() {
            return;
        }
        while let Ok(Some(line)) = lines.next_line().await {
            let verb = line
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let answer: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                "MAIL" if self.refusing.load(Ordering::SeqCst) => b"451 4.3.0 try again later\r\n",
                "DATA" => {
                    if write.write_all(b"354 go ahead\r\n").await.is_err() {
                        return;
                    }
                    let mut mail = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if line == "." {
                            break;
                        }
                        mail.push_str(&line);
                        mail.push('\n');
                    }
                    self.mails.lock().unwrap().push(mail);
                    b"250 2.0.0 queued\r\n"
                }
                "QUIT" => {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                }
                _ => b"250 OK\r\n",
            };
            if write.write_all(answer).await.is_err() {
                return;
            }
        }
    }
}

//! A testable start-up: [`App::build`] does everything that can fail (data directory,
//! database, migrations, certificate, binding the ports) and [`App::run_until`] serves until
//! the given shutdown future completes. `main` passes a SIGTERM/SIGINT future; tests bind
//! port 0 and pass a channel.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Arc;

use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use axum_server::{Control, Handle};
use termin_app::passwords::HashCost;
use termin_app::{PasswordHasher, Services};
use termin_domain::Clock;
use termin_storage::{MigrationReport, PoolSettings, Store};

use crate::config::{EmailDelivery, Settings, SmsDelivery, TlsSource};
use crate::connections::LimitedAcceptor;
use crate::tls::reload::ReloadingResolver;
use crate::tls::{self, TlsError};
use termin_app::delivery::{Deliverer, Transport};
use termin_delivery::{FileTransport, SmsHttpTransport, SmtpTransport};
use termin_domain::delivery::Channel;

/// Why start-up failed.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database {url}: {source}")]
    Database {
        url: String,
        source: termin_storage::StorageError,
    },
    #[error("cannot migrate the database: {0}")]
    Migrate(termin_storage::StorageError),
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot prepare the first-run set-up link: {0}")]
    Setup(termin_domain::DomainError),
    #[error("cannot set up message delivery: {0}")]
    Delivery(String),
}

/// What the operator is told at start-up.
#[derive(Debug, Clone)]
pub struct StartupInfo {
    pub https_addr: SocketAddr,
    pub redirect_addr: Option<SocketAddr>,
    pub public_origin: String,
    pub certificate: CertificateInfo,
    pub database: String,
    pub migrations: MigrationReport,
    /// Present when no practice exists yet: the one-time link to create the first one.
    pub setup_link: Option<String>,
    pub email_delivery: DeliveryInfo,
    pub sms_delivery: DeliveryInfo,
}

/// Where one channel's messages go.
#[derive(Debug, Clone)]
pub struct DeliveryInfo {
    pub description: String,
    /// True for the development `file` transport: nothing is really sent.
    pub file: bool,
}

#[derive(Debug, Clone)]
pub struct CertificateInfo {
    pub cert_path: PathBuf,
    pub fingerprint_sha256: String,
    pub self_signed: bool,
    pub created_now: bool,
}

pub struct App {
    settings: Settings,
    services: Services,
    deliverer: Deliverer,
    resolver: Arc<ReloadingResolver>,
    https: TcpListener,
    redirect: Option<TcpListener>,
    info: StartupInfo,
}

/// Opens the database named in `settings` and applies pending migrations.
pub async fn open_store(settings: &Settings) -> Result<(Store, MigrationReport), StartupError> {
    create_data_dir(settings)?;
    let pool = PoolSettings {
        max_connections: settings.db_max_connections,
        ..PoolSettings::default()
    };
    let store = Store::connect(&settings.database_url, &pool)
        .await
        .map_err(|source| StartupError::Database {
            url: settings.database_url.redacted(),
            source,
        })?;
    let report = store.migrate().await.map_err(StartupError::Migrate)?;
    Ok((store, report))
}

pub(crate) fn create_data_dir(settings: &Settings) -> Result<(), StartupError> {
    let dir = &settings.data_dir;
    let err = |source| StartupError::DataDir {
        path: dir.display().to_string(),
        source,
    };
    // The data directory holds the database and the TLS key: owner only. Created so from
    // the start (no window in which it is world-readable); an operator's existing directory
    // is left as it is, but a loose one is reported.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(err)?;
    let mode = std::fs::metadata(dir).map_err(err)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            data_dir = %dir.display(),
            mode = format!("{:o}", mode & 0o777),
            "the data directory is accessible to other users; `chmod 700` it"
        );
    }
    Ok(())
}

/// The services every entry point shares. Password hashing gets one slot per CPU but one,
/// so that a flood of sign-ins (each admitted one costs a hash) always leaves a CPU for
/// everybody else's requests (measured in docs/BENCHMARKS.md).
pub fn services(store: Store, clock: Arc<dyn Clock>) -> Services {
    let cpus = std::thread::available_parallelism().map_or(2, usize::from);
    let slots = cpus.saturating_sub(1).max(1);
    Services::new(
        store,
        clock,
        PasswordHasher::new(HashCost::default(), slots),
    )
}

/// How often the outbox is checked for due messages.
const DELIVERY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
/// How often each instance looks for due reminders, and how many it takes at a time.
const REMINDER_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);
const REMINDER_BATCH: u32 = 200;

/// The outbox worker with the configured transports (the `file` transport by default).
fn deliverer(
    settings: &Settings,
    services: &Services,
) -> Result<(Deliverer, DeliveryInfo, DeliveryInfo), StartupError> {
    let email: Arc<dyn Transport> = match &settings.email {
        EmailDelivery::File => Arc::new(FileTransport::new(&settings.data_dir, Channel::Email)),
        EmailDelivery::Smtp(config) => {
            Arc::new(SmtpTransport::new(config).map_err(|e| StartupError::Delivery(e.to_string()))?)
        }
    };
    let sms: Arc<dyn Transport> = match &settings.sms {
        SmsDelivery::File => Arc::new(FileTransport::new(&settings.data_dir, Channel::Sms)),
        SmsDelivery::Http(config) => Arc::new(
            SmsHttpTransport::new(config.as_ref().clone()).map_err(StartupError::Delivery)?,
        ),
    };
    let info = |t: &Arc<dyn Transport>, file: bool| DeliveryInfo {
        description: t.describe(),
        file,
    };
    let email_info = info(&email, matches!(settings.email, EmailDelivery::File));
    let sms_info = info(&sms, matches!(settings.sms, SmsDelivery::File));
    let deliverer = Deliverer::new(services.store.clone(), services.clock.clone(), email, sms);
    Ok((deliverer, email_info, sms_info))
}

fn bind(addr: SocketAddr) -> Result<TcpListener, StartupError> {
    let err = |source| StartupError::Bind { addr, source };
    let listener = TcpListener::bind(addr).map_err(err)?;
    listener.set_nonblocking(true).map_err(err)?;
    Ok(listener)
}

impl App {
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let (store, migrations) = open_store(&settings).await?;
        let mut services = services(store, clock.clone());
        services.guard = settings.guard.clone();
        services.backup_targets = Arc::new(
            settings
                .backup
                .iter()
                .flat_map(|b| b.targets.iter().map(|t| t.name.clone()))
                .collect(),
        );

        let (cert_path, key_path, self_signed, created_now) = match &settings.tls {
            TlsSource::SelfSigned => {
                let files = tls::self_signed::ensure(&settings.data_dir, clock.now())?;
                (files.cert, files.key, true, files.created)
            }
            TlsSource::Files { cert, key } => (cert.clone(), key.clone(), false, false),
        };
        let resolver = Arc::new(ReloadingResolver::load(cert_path.clone(), key_path)?);

        let https = bind(settings.listen)?;
        let https_addr = https.local_addr().map_err(|source| StartupError::Bind {
            addr: settings.listen,
            source,
        })?;
        let redirect = settings.redirect_listen.map(bind).transpose()?;
        let redirect_addr = redirect.as_ref().and_then(|l| l.local_addr().ok());

        let mut settings = settings;
        settings.listen = https_addr;
        let public_origin = settings.public_origin();
        services.public_origin.clone_from(&public_origin);
        let setup_link = services
            .issue_setup_link_if_needed()
            .await
            .map_err(StartupError::Setup)?
            .map(|token| format!("{public_origin}/setup/{}", token.reveal()));

        let (deliverer, email_delivery, sms_delivery) = deliverer(&settings, &services)?;
        let info = StartupInfo {
            https_addr,
            redirect_addr,
            public_origin,
            certificate: CertificateInfo {
                cert_path,
                fingerprint_sha256: resolver.fingerprint(),
                self_signed,
                created_now,
            },
            database: settings.database_url.redacted(),
            migrations,
            setup_link,
            email_delivery,
            sms_delivery,
        };
        Ok(Self {
            settings,
            services,
            deliverer,
            resolver,
            https,
            redirect,
            info,
        })
    }

    pub fn info(&self) -> &StartupInfo {
        &self.info
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The outbox worker, for tests that deliver on demand.
    pub fn deliverer(&self) -> &Deliverer {
        &self.deliverer
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests
    /// finish (up to the configured grace period) and closes the database.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let control = Control::new();
        let rustls = tls::server_config(self.resolver.clone())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let limits = &self.settings.connection_limits;
        // Connection caps first (before the handshake costs anything), then TLS.
        let acceptor = RustlsAcceptor::new(RustlsConfig::from_config(Arc::new(rustls)))
            .handshake_timeout(std::time::Duration::from_secs(10))
            .acceptor(LimitedAcceptor::new(limits));
        let router = termin_web::router(termin_web::AppState::new(
            self.services.clone(),
            self.settings.http_limits.clone(),
            self.settings.trusted_proxies.clone(),
        ));
        let mut https = axum_server::from_tcp(self.https)?
            .acceptor(acceptor)
            .handle(Handle::with_control(control.clone()))
            .first_request_timeout(limits.first_request_timeout);
        harden(https.http_builder(), limits);
        let https = https.serve(router.into_make_service_with_connect_info::<SocketAddr>());
        let mut servers = tokio::task::JoinSet::new();
        servers.spawn(https);

        if let Some(listener) = self.redirect {
            let origin = self
                .settings
                .public_url
                .as_ref()
                .map(|u| u.origin().ascii_serialization());
            let router = termin_web::https_redirect_router(self.info.https_addr.port(), origin);
            // The same caps and timeouts as HTTPS: a flood on port 80 must not use up the
            // process's file descriptors either.
            let mut plain = axum_server::from_tcp(listener)?
                .acceptor(LimitedAcceptor::new(limits))
                .handle(Handle::with_control(control.clone()))
                .first_request_timeout(limits.first_request_timeout);
            harden(plain.http_builder(), limits);
            let plain = plain.serve(router.into_make_service());
            servers.spawn(plain);
        }
        let (stop_delivery, delivery_stopped) = tokio::sync::watch::channel(());
        let delivery = tokio::spawn(self.deliverer.clone().run(DELIVERY_INTERVAL, async move {
            let mut stopped = delivery_stopped;
            let _ = stopped.changed().await;
        }));
        let services = self.services.clone();
        // Due reminders into the outbox, on every instance (each is claimed once).
        let reminders = tokio::spawn(async move {
            let mut every = tokio::time::interval(REMINDER_INTERVAL);
            loop {
                every.tick().await;
                match services.send_due_reminders(REMINDER_BATCH).await {
                    Ok(0) => {}
                    Ok(queued) => tracing::info!(queued, "appointment reminders queued"),
                    Err(err) => tracing::warn!(error = %err, "could not queue reminders"),
                }
            }
        });
        let services = self.services.clone();
        let audit_retention = self.settings.audit_retention;
        let pruner = tokio::spawn(async move {
            let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                hourly.tick().await;
                if let Err(err) = services.prune_sign_in_failures().await {
                    tracing::warn!(error = %err, "could not prune old sign-in failures");
                }
                match services
                    .store
                    .prune_expired_bookings(services.clock.now())
                    .await
                {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "expired booking holds removed"),
                    Err(err) => tracing::warn!(error = %err, "could not prune expired holds"),
                }
                match services.prune_audit(audit_retention).await {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "old audit entries removed"),
                    Err(err) => tracing::warn!(error = %err, "could not prune the audit log"),
                }
            }
        });
        // This instance's name in the scheduled jobs' leases.
        let instance = uuid::Uuid::new_v4().to_string();
        let backups = self.settings.backup.clone().map(|settings| {
            let backups = termin_backup::Backups::new(
                self.services.store.clone(),
                self.services.clock.clone(),
                settings,
            );
            tokio::spawn(backup_schedule(backups, instance.clone()))
        });
        let watcher = self
            .resolver
            .clone()
            .spawn_watcher(self.settings.tls_reload_interval);

        // Serve until asked to stop, or until a listener fails (then stop the others too).
        let failed_early = tokio::select! {
            () = shutdown => None,
            Some(ended) = servers.join_next() => Some(flatten(ended)),
        };
        tracing::info!(
            grace_secs = self.settings.shutdown_grace.as_secs(),
            "shutting down: no new connections, finishing requests in flight"
        );
        control.graceful_shutdown(Some(self.settings.shutdown_grace));
        let mut result = match failed_early {
            Some(Ok(())) => Err(std::io::Error::other("a listener stopped unexpectedly")),
            Some(Err(err)) => Err(err),
            None => Ok(()),
        };
        while let Some(ended) = servers.join_next().await {
            if let Err(err) = flatten(ended) {
                result = Err(err);
            }
        }
        watcher.abort();
        if let Some(backups) = backups {
            // A backup cut off here leaves no manifest, so nothing half-written is ever
            // taken for a backup; giving up the lease lets the next start make it.
            backups.abort();
            let _ = backups.await;
            if let Err(err) = self.services.store.release_scheduled_jobs(&instance).await {
                tracing::warn!(error = %err, "could not release the backup schedule's lease");
            }
        }
        pruner.abort();
        reminders.abort();
        // The outbox worker finishes the message in hand (its lease protects the rest).
        let _ = stop_delivery.send(());
        let _ = delivery.await;
        self.services.store.close().await;
        tracing::info!("stopped");
        result
    }
}

/// How often each instance asks whether a backup or a check is due.
const BACKUP_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// The daily backup and weekly check; the database lets one instance run each due job.
async fn backup_schedule(backups: termin_backup::Backups, owner: String) {
    let mut every = tokio::time::interval(BACKUP_CHECK_INTERVAL);
    loop {
        every.tick().await;
        match backups.run_due(&owner).await {
            Ok(tick) if tick.backed_up || tick.verified => {
                tracing::info!(
                    backed_up = tick.backed_up,
                    verified = tick.verified,
                    "scheduled backup jobs ran"
                )
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not run the backup schedule"),
        }
    }
}

/// Header-read timeout (slowloris) and header size limits on a listener's HTTP builder.
fn harden(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limits: &crate::connections::ConnectionLimits,
) {
    builder
        .http1()
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
        .http2()
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
}

fn flatten(ended: Result<std::io::Result<()>, tokio::task::JoinError>) -> std::io::Result<()> {
    ended.map_err(|join| std::io::Error::other(join.to_string()))?
}

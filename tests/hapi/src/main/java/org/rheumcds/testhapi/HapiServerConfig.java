package org.rheumcds.testhapi;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.ValueSetOperationProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.search.HapiHSearchAnalysisConfigurers;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.narrative2.NullNarrativeGenerator;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.CorsInterceptor;
import ca.uhn.fhir.rest.server.interceptor.LoggingInterceptor;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import jakarta.persistence.EntityManagerFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.orm.jpa.JpaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

/**
 * HAPI JPA wiring for R4 only: storage settings, entity manager, transaction manager and the
 * RESTful server with a database-backed paging provider. No subscriptions, terminology
 * loading, UI, validation or Hibernate Search. Batch2 (which HAPI's JPA layer needs for its own
 * jobs) runs on the in-memory message broker of {@link SubscriptionChannelConfig}; none of the
 * subscription matching or delivery configurations is imported.
 *
 * <p>With {@code --rheumcds.terminology=true} the same server also acts as a FHIR terminology
 * server for tests/terminology: {@code ValueSet/$expand} (implicit is-a value sets of a stored
 * CodeSystem) is registered and Hibernate Search indexes concepts in a local-heap Lucene
 * directory. Off by default: the FHIR data tests do not pay for the index.
 */
@Configuration
@Import({
	JpaR4Config.class,
	HapiJpaConfig.class,
	ThreadPoolFactoryConfig.class,
	JpaBatch2Config.class,
	Batch2JobsConfig.class,
	SubscriptionChannelConfig.class
})
public class HapiServerConfig {

	@Bean
	public JpaStorageSettings storageSettings() {
		JpaStorageSettings settings = new JpaStorageSettings();
		// Tests write then read at once: never answer a search from an earlier cached one.
		settings.setReuseCachedSearchResultsForMillis(null);
		// Any client id (also purely numeric), server-assigned ids are UUIDs.
		settings.setResourceServerIdStrategy(JpaStorageSettings.IdStrategyEnum.UUID);
		settings.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ANY);
		// Third-party charts point at Practitioner/Organization/Location by identifier
		// (conditional references) that a chart alone does not define: create placeholders that
		// carry the identifier, so the same reference resolves to the same target next time.
		settings.setAutoCreatePlaceholderReferenceTargets(true);
		settings.setPopulateIdentifierInAutoCreatedPlaceholderReferenceTargets(true);
		settings.setAllowInlineMatchUrlReferences(true);
		settings.setMatchUrlCacheEnabled(true);
		settings.setAllowMultipleDelete(true);
		settings.setExpungeEnabled(true);
		settings.setDeleteExpungeEnabled(true);
		return settings;
	}

	@Bean
	public PartitionSettings partitionSettings() {
		return new PartitionSettings();
	}

	@Bean
	public SubscriptionSettings subscriptionSettings() {
		return new SubscriptionSettings();
	}

	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			ConfigurableListableBeanFactory beanFactory,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings,
			JpaProperties jpaProperties,
			DataSource dataSource,
			@Value("${rheumcds.terminology:false}") boolean terminology) {
		LocalContainerEntityManagerFactoryBean factory =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		Map<String, Object> properties = new HashMap<>(jpaProperties.getProperties());
		properties.putIfAbsent("hibernate.hbm2ddl.auto", "update");
		if (terminology) {
			// Concept hierarchy filters of $expand (is-a) need the full-text index of concepts.
			properties.put("hibernate.search.enabled", "true");
			properties.put("hibernate.search.backend.type", "lucene");
			properties.put("hibernate.search.backend.directory.type", "local-heap");
			properties.put("hibernate.search.backend.lucene_version", "LUCENE_CURRENT");
			properties.put(
					"hibernate.search.backend.analysis.configurer",
					HapiHSearchAnalysisConfigurers.HapiLuceneAnalysisConfigurer.class.getName());
		} else {
			properties.putIfAbsent("hibernate.search.enabled", "false");
		}
		properties.putIfAbsent("hibernate.cache.use_second_level_cache", "false");
		properties.putIfAbsent("hibernate.cache.use_query_cache", "false");
		properties.putIfAbsent("hibernate.archive.scanner", "org.hibernate.boot.archive.scan.internal.DisabledScanner");
		factory.setPersistenceUnitName("HAPI_PU");
		factory.setJpaPropertyMap(properties);
		factory.setDataSource(dataSource);
		return factory;
	}

	@Primary
	@Bean
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		return new JpaTransactionManager(entityManagerFactory);
	}

	@Bean
	public RestfulServer restfulServer(
			IFhirSystemDao<?, ?> systemDao,
			ResourceProviderFactory resourceProviderFactory,
			IJpaSystemProvider systemProvider,
			JpaStorageSettings storageSettings,
			ISearchParamRegistry searchParamRegistry,
			IValidationSupport validationSupport,
			DatabaseBackedPagingProvider pagingProvider,
			ValueSetOperationProvider valueSetOperationProvider,
			@Value("${rheumcds.terminology:false}") boolean terminology,
			@Value("${rheumcds.paging.default-page-size:20}") int defaultPageSize,
			@Value("${rheumcds.paging.maximum-page-size:300}") int maximumPageSize) {
		FhirContext fhirContext = systemDao.getContext();
		fhirContext.setNarrativeGenerator(new NullNarrativeGenerator());

		RestfulServer server = new RestfulServer(fhirContext);
		server.registerProviders(resourceProviderFactory.createProviders());
		server.registerProvider(systemProvider);
		if (terminology) {
			server.registerProvider(valueSetOperationProvider);
		}
		server.setServerConformanceProvider(new JpaCapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport));
		server.setDefaultResponseEncoding(EncodingEnum.JSON);

		pagingProvider.setDefaultPageSize(defaultPageSize);
		pagingProvider.setMaximumPageSize(maximumPageSize);
		server.setPagingProvider(pagingProvider);

		LoggingInterceptor requestLog = new LoggingInterceptor();
		requestLog.setLoggerName("fhir.request");
		requestLog.setMessageFormat(
				"${requestVerb} ${requestUrl} -> ${operationType} in ${processingTimeMillis} ms");
		requestLog.setErrorMessageFormat("ERROR ${requestVerb} ${requestUrl} -> ${exceptionMessage}");
		requestLog.setLogExceptions(true);
		server.registerInterceptor(requestLog);

		// Browser apps read this server like a real EHR's FHIR endpoint, which answers CORS: the
		// SMART trend app of the service under test (loopback) and the CDS Hooks sandbox page,
		// served from loopback or from its public origin (docs/integration.md).
		CorsConfiguration cors = new CorsConfiguration();
		cors.setAllowedOriginPatterns(
				List.of("http://127.0.0.1:*", "http://localhost:*", "https://sandbox.cds-hooks.org"));
		cors.setAllowedMethods(List.of("GET", "POST", "PUT", "DELETE", "OPTIONS"));
		cors.addAllowedHeader("*");
		cors.setExposedHeaders(List.of("Location", "Content-Location"));
		server.registerInterceptor(new CorsInterceptor(cors));
		return server;
	}
}
